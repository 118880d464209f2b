import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { StatecellError } from "../../../runtime/core/errors.js";
import { fakeCore, submissionId } from "./fake-core.js";
import { call, startApi, submit, type TestApi } from "./helpers.js";

let t: TestApi | undefined;
afterEach(async () => {
  await t?.api.close();
  t = undefined;
});

const reading = (i: number) => ({ data: { sensor: `cbd-${i}`, pm25: i, at: 1767225600 + i } });

describe("POST .../inputs", () => {
  it("one submission answers one result; the core gets the submission as sent", async () => {
    t = await startApi();
    const r = await submit(t.port, reading(1));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ results: [{ id: submissionId(reading(1)), status: "pending" }] });
    expect(t.core.calls.submit).toEqual([{ channel: "air-quality", cell: "readings", submissions: [reading(1)] }]);
  });

  it("a batch answers in the order sent, rejections with code, rule and message; one core call per request", async () => {
    t = await startApi();
    const inputs = [reading(1), { data: { reject: true } }, reading(3), { op: "vote", data: 1, signer: "a".repeat(64), signature: "b".repeat(128) }];
    const r = await submit(t.port, { inputs });
    expect(r.json.results.map((x: { id: string }) => x.id)).toEqual(inputs.map(submissionId));
    expect(r.json.results.map((x: { status: string }) => x.status)).toEqual(["pending", "rejected", "pending", "pending"]);
    expect(r.json.results[1]).toMatchObject({ code: "CELL_RULE", rule: "no-reject", message: "rejected on request" });
    expect(t.core.calls.submit).toHaveLength(1);
    expect(t.core.calls.submit[0].submissions).toEqual(inputs);
  });

  it("an empty batch answers no results; for a cell the node does not host it is still 404", async () => {
    t = await startApi();
    expect((await submit(t.port, { inputs: [] })).json).toEqual({ results: [] });
    const r = await submit(t.port, { inputs: [] }, "air-quality/nope");
    expect([r.status, r.json.code]).toEqual([404, "NODE_NOT_HOSTED"]);
    expect(t.core.calls.submit).toHaveLength(0);
  });

  it("a cell the node does not host is 404 NODE_NOT_HOSTED (the core's refusal)", async () => {
    t = await startApi();
    const r = await submit(t.port, reading(1), "weather/stations");
    expect([r.status, r.json.code]).toEqual([404, "NODE_NOT_HOSTED"]);
    expect(r.json.message).toBe('this node does not host cell "stations" of channel "weather"');
  });

  it("a submission with a repeated key or an inexact number is rejected by its text, in place; the others reach the core", async () => {
    t = await startApi();
    const dup = '{"data":{"sensor":"cbd-1","pm25":1,"pm25":900,"at":1}}';
    const big = '{"data":{"sensor":"cbd-2","pm25":9007199254740993,"at":1}}';
    const body = `{"inputs":[${JSON.stringify(reading(1))},${dup},${big},${JSON.stringify(reading(4))}]}`;
    const r = await submit(t.port, body);
    const results = r.json.results;
    expect(results.map((x: { status: string }) => x.status)).toEqual(["pending", "rejected", "rejected", "pending"]);
    expect(results[1].code).toBe("CELL_DUPLICATE_JSON_KEY");
    expect(results[2].code).toBe("CELL_BAD_NUMBER");
    // Ids of refused texts are the sha256 of the text as sent: never the id of the parsed (collapsed) value.
    expect(results[1].id).toBe(createHash("sha256").update(dup).digest("hex"));
    expect(results[1].id).not.toBe(submissionId(JSON.parse(dup)));
    expect(results[0].id).toBe(submissionId(reading(1)));
    expect(t.core.calls.submit[0].submissions).toEqual([reading(1), reading(4)]);
  });

  it("the single form is judged like a batch item: a repeated key is a rejected result, not a 400", async () => {
    t = await startApi();
    const r = await submit(t.port, '{"data":1,"data":2}');
    expect(r.status).toBe(200);
    expect(r.json.results[0]).toMatchObject({ status: "rejected", code: "CELL_DUPLICATE_JSON_KEY" });
    expect(t.core.calls.submit).toHaveLength(0);
  });

  it("malformed bodies are 400 with code, message and the JSON Pointer of what is wrong", async () => {
    t = await startApi();
    const cases: Array<[string, string, string]> = [
      ["", "API_NOT_JSON", ""],
      ['{"data":', "API_NOT_JSON", ""],
      ["[1,2]", "API_BAD_BODY", ""],
      ['"text"', "API_BAD_BODY", ""],
      ["{}", "API_BAD_BODY", "/data"],
      ['{"data":1,"extra":2}', "API_BAD_BODY", "/extra"],
      ['{"data":1,"op":7}', "API_BAD_BODY", "/op"],
      ['{"data":1,"signer":"zz","signature":"00"}', "API_BAD_BODY", "/signer"],
      [`{"data":1,"signer":"${"a".repeat(64)}"}`, "API_BAD_BODY", "/signature"],
      ['{"inputs":{}}', "API_BAD_BODY", "/inputs"],
      ['{"inputs":[{"data":1},{"dat":2}]}', "API_BAD_BODY", "/inputs/1/data"],
      ['{"inputs":[{"data":1}],"more":1}', "API_BAD_BODY", "/more"],
      ['{"inputs":[],"inputs":[{"data":1}]}', "API_DUPLICATE_KEY", ""],
    ];
    for (const [body, code, path] of cases) {
      const r = await submit(t.port, body);
      expect([body, r.status, r.json.code, r.json.path, r.json.in]).toEqual([body, 400, code, path, "body"]);
      expect(typeof r.json.message).toBe("string");
      expect(typeof r.json.remedy).toBe("string");
    }
    const typo = await submit(t.port, '{"inputs":[{"dta":1}]}');
    expect(typo.json.message).toBe('`/inputs/0` has no "data"');
    expect(t.core.calls.submit).toHaveLength(0);
  });

  it("more submissions than limits.maxInputsPerRequest are 413 API_TOO_MANY_INPUTS, counted before parsing", async () => {
    t = await startApi({ maxInputsPerRequest: 3 });
    const ok = await submit(t.port, { inputs: [reading(1), reading(2), reading(3)] });
    expect(ok.json.results).toHaveLength(3);
    const r = await submit(t.port, { inputs: [reading(1), reading(2), reading(3), reading(4)] });
    expect([r.status, r.json.code, r.json.path]).toEqual([413, "API_TOO_MANY_INPUTS", "/inputs"]);
  });

  it("content types other than JSON and compressed bodies are 415", async () => {
    t = await startApi();
    const path = "/v1/channels/air-quality/cells/readings/inputs";
    expect((await call(t.port, "POST", path, JSON.stringify(reading(1)), { "content-type": "text/plain" })).json.code).toBe("API_UNSUPPORTED_MEDIA_TYPE");
    expect((await call(t.port, "POST", path, JSON.stringify(reading(1)), { "content-type": "application/json; charset=latin1" })).status).toBe(415);
    expect((await call(t.port, "POST", path, JSON.stringify(reading(1)), { "content-encoding": "gzip" })).status).toBe(415);
    expect((await call(t.port, "POST", path, JSON.stringify(reading(1)), { "content-type": "application/json; charset=UTF-8" })).status).toBe(200);
    expect((await call(t.port, "POST", path, JSON.stringify(reading(1)), { "content-type": "" })).status).toBe(200);
  });

  it("a body that is not UTF-8 is 400 API_NOT_UTF8", async () => {
    t = await startApi();
    const r = await call(t.port, "POST", "/v1/channels/air-quality/cells/readings/inputs", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect([r.status, r.json.code]).toEqual([400, "API_NOT_UTF8"]);
  });

  it("a statecell error of the core is 503 with its own code; any other fault 500 API_INTERNAL; a core that answers the wrong count is 500", async () => {
    const core = fakeCore();
    t = await startApi({}, core);
    core.onSubmit = () => {
      throw new StatecellError("LEDGER_OPEN_FAILED", "the ledger is gone", { remedy: "restart" });
    };
    const a = await submit(t.port, reading(1));
    expect([a.status, a.json.code, a.json.remedy]).toEqual([503, "LEDGER_OPEN_FAILED", "restart"]);
    core.onSubmit = () => {
      throw new TypeError("x is undefined at core.ts:12");
    };
    const b = await submit(t.port, reading(1));
    expect([b.status, b.json.code]).toEqual([500, "API_INTERNAL"]);
    expect(b.text).not.toContain("core.ts");
    core.onSubmit = () => [];
    const c = await submit(t.port, reading(1));
    expect([c.status, c.json.code]).toEqual([500, "API_INTERNAL"]);
    expect(t.internal).toHaveLength(2);
  });

  it("a keep-alive connection serves request after request; a refusal while the body was unread closes it", async () => {
    t = await startApi();
    const ok = await submit(t.port, reading(1));
    expect(ok.headers.connection).toBe("close"); // agent: false asks for close itself
    const refused = await call(t.port, "POST", "/v1/channels/air-quality/cells/readings/inputs", JSON.stringify(reading(1)), { "content-type": "text/plain", connection: "keep-alive" });
    expect([refused.status, refused.headers.connection]).toEqual([415, "close"]);
    const served = await call(t.port, "GET", "/healthz", undefined, { connection: "keep-alive" });
    expect(served.headers.connection).toBe("keep-alive");
  });
});
