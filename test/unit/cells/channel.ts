/** The channel most cells tests run against (YAML through the real loader). */
export const AIR = `
channel: air
version: 1
params: { max: 500 }
limits: { maxInputBytes: 4096, maxDepth: 8 }
groups:
  edge: { validators: [a], threshold: 1 }
schemas:
  Reading:
    type: object
    required: [sensor, district, pm25, at]
    properties:
      sensor: { type: string, minLength: 1 }
      district: { type: string, minLength: 1 }
      pm25: { type: number, minimum: 0 }
      at: { type: integer }
      close: { type: boolean }
      tags: { type: array }
cells:
  readings:
    group: edge
    accepts: Reading
    key: { var: data.sensor }
    rules:
      - name: plausible
        require: { "<=": [ { var: data.pm25 }, { var: channel.params.max } ] }
        message: "PM2.5 of {data.pm25} from {data.sensor} is above 500"
      - name: under-district-cap
        require: { "<": [ { var: [ { cat: [ "state.totals.", { var: data.district }, ".count" ] }, 0 ] }, 3 ] }
        message: "district {data.district} already has 3 readings"
    state:
      - set: latest.{data.sensor}
        value: { var: data.pm25 }
      - add: totals.{data.district}.count
        value: 1
      - append: log
        value: { var: data.at }
      - remove: latest.{data.sensor}
        when: { "==": [ { var: data.close }, true ] }
    emit:
      - to: districts
        data: { district: { var: data.district }, pm25: { var: data.pm25 } }
      - to: alerts
        when: { ">": [ { var: data.pm25 }, 100 ] }
  districts:
    group: edge
    accepts: { type: object }
    state:
      - add: sum.{data.district}
        value: { var: data.pm25 }
  alerts:
    group: edge
    accepts: { type: object }
`;
