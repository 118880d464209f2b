/** The example aggregation hooks of the sensor channel (channels/air-quality/districts.js). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkCode } from "../../../runtime/sandbox/index.js";
import { disposeAll, items, ROOMY, runner } from "./helpers.js";

afterAll(disposeAll);

const FILE = fileURLToPath(new URL("../../../channels/air-quality/districts.js", import.meta.url));
const source = readFileSync(FILE, "utf8");

describe("channels/air-quality/districts.js", () => {
  it("lints clean and defines validate and reduce", () => {
    expect(checkCode(source, "channels/air-quality/districts.js")).toEqual({ hooks: ["validate", "reduce"], problems: [] });
  });

  it("rejects district codes that are not three lowercase letters", () => {
    const r = runner(source, ROOMY, "districts.js");
    const res = r.validate(items([{ district: "cen", pm25: 1 }, { district: "CEN", pm25: 1 }, { district: "ce", pm25: 1 }, { district: "cent", pm25: 1 }, { pm25: 1 }]));
    const reject = { ok: false, reason: "district must be three lowercase letters" };
    expect(res).toEqual([{ ok: true }, reject, reject, reject, reject]);
  });

  it("keeps count, sum, mean (2 decimals) and max per district", () => {
    const r = runner(source, ROOMY, "districts.js");
    const out = r.reduce(
      { nor: { count: 1, sum: 10, mean: 10, max: 10 } },
      items([{ district: "cen", pm25: 10 }, { district: "cen", pm25: 12.5 }, { district: "nor", pm25: 4 }, { district: "cen", pm25: 11 }, { district: "cen", pm25: "x" }]),
    );
    expect(out.results.slice(0, 4)).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(out.results[4]).toEqual({ fault: "SANDBOX_THROW", message: "pm25 must be a number" });
    expect(out.state).toEqual({
      cen: { count: 3, sum: 33.5, mean: 11.17, max: 12.5 },
      nor: { count: 2, sum: 14, mean: 7, max: 10 },
    });
  });
});
