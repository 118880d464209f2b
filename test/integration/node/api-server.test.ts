/**
 * The client API on a real socket, driven by real HTTP and WebSocket
 * clients, over a small in-memory core that does what a node's core does
 * for one cell, with the real modules: admission (runtime/cells admitInput:
 * signatures, limits), block execution (executeBlock over the poll
 * channel's signed ballots), input ids (runtime/ledger), events. Bounded:
 * a few thousand submissions, a few seconds.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { admitInput, executeBlock, plainState, signedMessage, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { inputId } from "../../../runtime/ledger/input-id.js";
import { createApiServer, type ApiServer } from "../../../runtime/node/api/index.js";
import type { CellHead, InputStatus, NodeCore, NodeEvent, StoredBlock, SubmitResult } from "../../../runtime/node/core-types.js";
import { StatecellError } from "../../../runtime/core/errors.js";

function loadPoll(): ChannelPlan {
  const file = "channels/poll.yaml";
  const { plan, problems } = loadChannel(readFileSync(file, "utf8"), { file }, { readFile: () => undefined });
  if (!plan) throw new Error(problems.map((p) => p.message).join("\n"));
  return plan;
}

/** One hosted cell (city-poll/ballots) the way a node core serves it, in memory. */
function ballotCore(plan: ChannelPlan) {
  const listeners = new Set<(e: NodeEvent) => void>();
  const statuses = new Map<string, InputStatus>();
  const blocks = new Map<number, StoredBlock>();
  let pool: Array<{ id: string; input: BlockInput }> = [];
  let state: CellState = {};
  let head: CellHead | undefined;
  let ready = false;
  const emit = (e: NodeEvent) => listeners.forEach((l) => l(e));
  const core: NodeCore & { commitNext(time: number): void; setReady(r: boolean): void } = {
    hosted: () => [{ channel: "city-poll", cell: "ballots" }],
    async submit(channel, cell, submissions) {
      if (channel !== "city-poll" || cell !== "ballots") throw new StatecellError("NODE_NOT_HOSTED", `${channel}/${cell} is not hosted`);
      return submissions.map((s): SubmitResult => {
        const id = inputId(s as Json);
        const known = statuses.get(id);
        if (known) return { id, status: known.status === "committed" ? "committed" : known.status, ...(known.code ? { code: known.code } : {}) };
        const r = admitInput(plan, cell, s);
        if ("accepted" in r) return { id, status: "rejected", code: r.code, message: r.message };
        pool.push({ id, input: r });
        statuses.set(id, { id, status: "pending", channel, cell });
        return { id, status: "pending" };
      });
    },
    inputStatus: (id) => statuses.get(id),
    head: () => head,
    block: (_c, _cell, height) => blocks.get(height),
    state: () => (head ? (plainState(state) as Json) : undefined),
    record: (_c, _cell, key) => {
      const records = (plainState(state) as { records?: Record<string, Json> }).records ?? {};
      return Object.prototype.hasOwnProperty.call(records, key) ? records[key] : undefined;
    },
    readiness: () => (ready ? { ready: true, missing: [] } : { ready: false, missing: ["city-poll/ballots: 0 of 7 validators connected, quorum 5"] }),
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    commitNext(time) {
      const height = (head?.height ?? 0) + 1;
      const batch = pool;
      pool = [];
      const hash = height.toString(16).padStart(64, "0");
      const r = executeBlock(plan, "ballots", state, batch.map((b) => b.input), { height, time, hash });
      state = r.state;
      head = { height, hash, stateRoot: r.stateRoot };
      blocks.set(height, { height, hash, value: { inputs: batch.map((b) => b.id) }, certificate: { height, signatures: [] } });
      let rejected = 0;
      batch.forEach((b, index) => {
        const v = r.verdicts[index];
        const status: InputStatus = v.accepted
          ? { id: b.id, status: "committed", channel: "city-poll", cell: "ballots", height, index }
          : { id: b.id, status: "rejected", channel: "city-poll", cell: "ballots", height, index, code: v.code, ...(v.rule ? { rule: v.rule } : {}), message: v.message };
        if (!v.accepted) rejected++;
        statuses.set(b.id, status);
        emit({ type: "input", ...status });
      });
      emit({ type: "commit", channel: "city-poll", cell: "ballots", height, hash, inputs: batch.length, rejected, time });
    },
    setReady(r) {
      ready = r;
    },
  };
  return core;
}

const plan = loadPoll();
const opensAt = (plan.document as { params: { opensAt: number } }).params.opensAt;

function ballot(voter: string, choice: string): { data: Json; signer: string; signature: string } {
  const key = keyPairFromName(voter);
  const data = { choice };
  return { data, signer: key.publicKey, signature: signBytes(key, signedMessage(plan.channel, "ballots", data)) };
}

function http(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: "127.0.0.1", port, method, path, headers: text ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on("error", reject);
    req.end(text);
  });
}

let core: ReturnType<typeof ballotCore>;
let api: ApiServer;
let port: number;
let wsUrl: string;

beforeAll(async () => {
  core = ballotCore(plan);
  api = createApiServer(core);
  const bound = await api.listen({ host: "127.0.0.1", port: 0 });
  port = bound.port;
  wsUrl = `${bound.url.replace("http", "ws")}/v1/stream`;
});
afterAll(async () => {
  await api.close();
});

describe("the client API over a real socket (city-poll/ballots)", () => {
  it("HTTP: signed ballots are admitted, a forged one rejected by admission; the ids are the contract's", async () => {
    const good = ballot("ann", "parks");
    const forged = { ...ballot("ben", "transit"), data: { choice: "parks" } };
    const r = await http(port, "POST", "/v1/channels/city-poll/cells/ballots/inputs", { inputs: [good, forged] });
    expect(r.status).toBe(200);
    expect(r.json.results[0]).toEqual({ id: inputId(good), status: "pending" });
    expect(r.json.results[1]).toMatchObject({ status: "rejected", code: "CELL_BAD_SIGNATURE" });
    expect((await http(port, "GET", "/readyz")).status).toBe(503);
    core.setReady(true);
    expect((await http(port, "GET", "/readyz")).json).toEqual({ ready: true, missing: [] });
  });

  it("stream: many messages in flight are answered by ref; subscribers see the commit and each input's verdict; the routes show the block", async () => {
    const ws = new WebSocket(wsUrl);
    const got: any[] = [];
    ws.on("message", (d) => got.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "subscribe", ref: "sub", channels: ["city-poll"] }));
    const voters = Array.from({ length: 1_000 }, (_, i) => `voter-${i}`);
    const options = ["parks", "transit", "housing", "bridges"];
    const t0 = performance.now();
    for (let m = 0; m < 20; m++) {
      const inputs = voters.slice(m * 50, m * 50 + 50).map((v, i) => ballot(v, options[(m * 50 + i) % 4]));
      ws.send(JSON.stringify({ type: "submit", ref: m, channel: "city-poll", cell: "ballots", inputs }));
    }
    await waitUntil(() => got.filter((x) => x.type === "results").length === 20, 15_000);
    expect(performance.now() - t0).toBeLessThan(15_000);
    const results = got.filter((x) => x.type === "results").sort((a, b) => a.ref - b.ref);
    expect(results.map((x) => x.ref)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results.flatMap((x) => x.results).every((x: SubmitResult) => x.status === "pending")).toBe(true);

    core.commitNext(opensAt + 1_000);
    await waitUntil(() => got.some((x) => x.type === "commit"), 5_000);
    const commit = got.find((x) => x.type === "commit");
    expect(commit).toMatchObject({ type: "commit", channel: "city-poll", cell: "ballots", height: 1, inputs: 1_001 });
    // "bridges" is not an option: a quarter of the stream's ballots are rejected by the rule, and say so.
    expect(commit.rejected).toBe(250);
    await waitUntil(() => got.filter((x) => x.type === "input").length === 1_001, 5_000);
    const rejectedEvent = got.find((x) => x.type === "input" && x.status === "rejected");
    expect(rejectedEvent).toMatchObject({ code: "CELL_RULE", rule: "known-option", message: '"bridges" is not one of the options' });

    const head = await http(port, "GET", "/v1/channels/city-poll/cells/ballots");
    expect(head.json).toMatchObject({ height: 1, hash: commit.hash });
    expect((await http(port, "GET", "/v1/channels/city-poll/cells/ballots/blocks/1")).json.value.inputs).toHaveLength(1_001);
    const ann = keyPairFromName("ann").publicKey;
    expect((await http(port, "GET", `/v1/channels/city-poll/cells/ballots/records/${ann}`)).json.key).toBe(ann);
    const status = await http(port, "GET", `/v1/inputs/${inputId(ballot("ann", "parks"))}`);
    expect(status.json).toMatchObject({ status: "committed", height: 1, index: 0 });
    // A resubmission answers the same id with its current status.
    const again = await http(port, "POST", "/v1/channels/city-poll/cells/ballots/inputs", ballot("ann", "parks"));
    expect(again.json.results[0]).toEqual({ id: inputId(ballot("ann", "parks")), status: "committed" });
    ws.close();
  });

  it("a cell the node does not host is 404 NODE_NOT_HOSTED on HTTP and an error on the stream", async () => {
    const r = await http(port, "POST", "/v1/channels/city-poll/cells/tally/inputs", { data: { choice: "parks" } });
    expect([r.status, r.json.code]).toEqual([404, "NODE_NOT_HOSTED"]);
    const ws = new WebSocket(wsUrl);
    const got: any[] = [];
    ws.on("message", (d) => got.push(JSON.parse(d.toString())));
    await new Promise((r2) => ws.once("open", r2));
    ws.send(JSON.stringify({ type: "submit", ref: "x", channel: "city-poll", cell: "tally", inputs: [{ data: { choice: "parks" } }] }));
    await waitUntil(() => got.length === 1, 5_000);
    expect(got[0]).toMatchObject({ type: "error", ref: "x", status: 404, code: "NODE_NOT_HOSTED" });
    ws.close();
  });
});

async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
