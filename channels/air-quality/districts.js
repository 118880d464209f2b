// Code hooks of the `districts` cell of channels/air-quality.yaml: per-district
// PM2.5 statistics of the readings the `readings` cell emits
// ({ district: "cen", pm25: 12 }).
//
// State: one entry per district code, e.g.
//   { "cen": { "count": 2, "sum": 30, "mean": 15, "max": 18 } }
// `mean` is rounded to 2 decimals with Math.round, which gives the same
// result on every machine (IEEE 754 doubles, no locale).

const DISTRICT_CODE = /^[a-z]{3}$/;

/** Rejects district codes other than three lowercase letters. */
function validate(data) {
  if (typeof data.district !== "string" || !DISTRICT_CODE.test(data.district)) {
    return { reject: "district must be three lowercase letters" };
  }
  return true;
}

/** Folds one reading into its district's count, sum, mean and max. */
function reduce(state, data) {
  if (typeof data.pm25 !== "number") throw new Error("pm25 must be a number");
  const prev = state[data.district] || { count: 0, sum: 0, mean: 0, max: data.pm25 };
  const count = prev.count + 1;
  const sum = prev.sum + data.pm25;
  state[data.district] = {
    count,
    sum,
    mean: Math.round((sum / count) * 100) / 100,
    max: Math.max(prev.max, data.pm25),
  };
  return state;
}
