/** The pinned block of vectors.json: a channel, its inputs and headers (shared by the generator and the test). */
export const VECTOR_CHANNEL = `
channel: vectors
version: 1
groups: { g: { validators: [a], threshold: 1 } }
schemas:
  Reading:
    type: object
    required: [sensor, district, pm25]
    properties: { sensor: { type: string }, district: { type: string }, pm25: { type: number } }
cells:
  readings:
    group: g
    accepts: Reading
    key: { var: data.sensor }
    rules:
      - name: plausible
        require: { "<=": [ { var: data.pm25 }, 500 ] }
        message: "PM2.5 of {data.pm25} is above 500"
    state:
      - set: latest.{data.sensor}
        value: { var: data.pm25 }
      - add: totals.{data.district}
        value: { var: data.pm25 }
      - append: order
        value: { var: data.sensor }
`;

export const VECTOR_BLOCKS = [
  {
    header: { height: 1, time: 1700000001000, hash: "01".repeat(32) },
    inputs: [
      '{"sensor":"cen-1","district":"cen","pm25":12.5}',
      '{"district":"nor","sensor":"nor-1","pm25":3}',
      '{"sensor":"cen-2","district":"cen","pm25":900}',
      '{"sensor":"cen-1","district":"cen","pm25":1}',
    ],
  },
  {
    header: { height: 2, time: 1700000002000, hash: "02".repeat(32) },
    inputs: ['{"sensor":"é-1","district":"\\u00e9","pm25":1e2}', '{"sensor":"nor-2","district":"nor","pm25":0.1}'],
  },
];
