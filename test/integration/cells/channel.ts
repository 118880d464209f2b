/** The channel both determinism processes execute. */
export const DETERMINISM_CHANNEL = `
channel: determinism
version: 1
groups: { g: { validators: [a, b, c, d], threshold: 3 } }
schemas:
  Reading:
    type: object
    required: [sensor, district, pm25, at]
    properties:
      sensor: { type: string }
      district: { type: string }
      pm25: { type: number, minimum: 0 }
      at: { type: integer }
      close: { type: boolean }
cells:
  readings:
    group: g
    accepts: Reading
    key: { cat: [ { var: data.sensor }, "@", { var: data.district } ] }
    rules:
      - name: plausible
        require: { "<=": [ { var: data.pm25 }, 500 ] }
        message: "PM2.5 of {data.pm25} is above 500"
      - name: rising-or-new
        require: { ">=": [ { var: data.pm25 }, { "-": [ { var: [ { cat: [ "state.latest.", { var: data.sensor } ] }, 0 ] }, 50 ] } ] }
        message: "{data.sensor} fell by more than 50"
    state:
      - set: latest.{data.sensor}
        value: { var: data.pm25 }
      - add: totals.{data.district}.count
        value: 1
      - add: totals.{data.district}.sum
        value: { var: data.pm25 }
      - append: recent.{data.district}
        value: { var: data.at }
      - remove: latest.{data.sensor}
        when: { var: data.close }
    emit:
      - to: sums
        when: { ">": [ { var: data.pm25 }, 100 ] }
        data: { district: { var: data.district }, pm25: { var: data.pm25 }, from: { var: data.sensor } }
  sums:
    group: g
    accepts: { type: object, required: [district, pm25], properties: { district: { type: string }, pm25: { type: number } } }
    state:
      - add: high.{data.district}
        value: { var: data.pm25 }
      - set: last
        value: { var: data.from }
`;
