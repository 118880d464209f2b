import { describe, expect, it } from "vitest";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createGroupDriver, GENESIS_HASH, MemoryBlockStore, MemorySignerStore, MemoryWal } from "../../../runtime/consensus/index.js";
import { APP, config, id, proposal, PUB, value, vote } from "./harness.js";
import { certified, rig, sentOf } from "./driver-harness.js";

const V = value("v");

/** Node a (index 0) is shown b's proposal of V and the prevotes and precommits of b, c and d: it decides height 1. */
function decideOne(r: ReturnType<typeof rig>): void {
  r.driver.receive(PUB[1], proposal(1, 0, V));
  for (const i of [1, 2, 3]) r.driver.receive(PUB[i], vote(i, "prevote", 0, id(V)));
  for (const i of [1, 2, 3]) r.driver.receive(PUB[i], vote(i, "precommit", 0, id(V)));
}

describe("group driver: effects through the ports", () => {
  it("a fresh proposer starts at genesis and persists each signature before it leaves", () => {
    const r = rig({ self: 1 });
    r.driver.start();
    expect(r.driver.state?.height).toBe(1);
    expect(r.log).toEqual(["save:0", "wal", "broadcast:proposal", "timer:100", "save:1", "wal", "broadcast:prevote"]);
    expect(r.store.load()?.step).toBe(1);
  });

  it("a decision is stored with the state after it, then the WAL forgets its height, then it is reported", () => {
    const r = rig();
    r.driver.start();
    decideOne(r);
    const at = r.log.indexOf("append:1");
    expect(at).toBeGreaterThan(0);
    expect(r.log[at + 1]).toBe("truncate:2");
    expect(r.blocks.head()).toEqual({ height: 1, valueId: id(V), state: 1 });
    expect(r.wal.entries(1)).toEqual([]);
    expect(r.events.decided).toEqual([{ height: 1, source: "consensus" }]);
    expect(r.driver.counters.decided).toBe(1);
    expect(r.driver.state?.height).toBe(2);
  });

  it("a restart resumes from the stores: the next height after the stored head, the same signature for the same step", () => {
    const first = rig();
    first.driver.start();
    decideOne(first);
    const W = value("w", 2);
    first.driver.receive(PUB[2], proposal(2, 0, W, -1, 2)); // c proposes at height 2, round 0
    first.timers.find((t) => t.ms === 0)!.fire(); // the commit timeout: round 0 of height 2
    const prevote = sentOf(first, "prevote").at(-1)!;
    expect(prevote).toMatchObject({ height: 2, valueId: id(W) });
    // The process dies; a new one opens the same stores.
    const again = rig({ stores: first });
    again.driver.start();
    expect(again.driver.state).toMatchObject({ height: 2, prevHash: id(V), app: 1, step: "prevote" });
    expect(sentOf(again, "prevote")).toEqual([prevote]);
    expect(again.log.filter((l) => l.startsWith("save"))).toEqual([]);
  });

  it("a fresh node with nothing stored starts at height 1 on the genesis hash", () => {
    const r = rig();
    r.driver.start();
    expect(r.driver.state).toMatchObject({ height: 1, prevHash: GENESIS_HASH, app: 0 });
  });

  it("a timer set before a restart does not fire into the new incarnation", () => {
    const r = rig();
    r.driver.start();
    const old = r.timers.shift()!; // propose timeout of round 0
    r.driver.start();
    old.fire();
    expect(sentOf(r, "prevote")).toEqual([]);
    r.timers.shift()!.fire();
    expect(sentOf(r, "prevote").map((m) => m.valueId)).toEqual([null]);
  });

  it("inputs offered before the start go to the first proposal", () => {
    const seen: unknown[] = [];
    const r = rig({ self: 1, consensus: { app: { ...APP, buildValue: (ctx) => (seen.push(ctx.pending), APP.buildValue(ctx)) } } });
    r.driver.offer([{ n: 1 }]);
    r.driver.start();
    expect(seen).toEqual([[{ n: 1 }]]);
  });

  it("a port that calls back into the driver waits its turn: one step's effects never interleave with the next's", () => {
    const log: string[] = [];
    // b's transport hands each broadcast straight back to b as if from c: a re-entrant receive.
    let driver: ReturnType<typeof createGroupDriver<number>> | null = null;
    driver = createGroupDriver(
      { consensus: config(1), genesis: 0, gossipIntervalMs: 0 },
      {
        transport: {
          send: () => {},
          broadcast: (m) => {
            log.push(`broadcast:${m.type}`);
            driver!.receive(PUB[2], vote(2, "prevote", 0, m.type === "proposal" ? m.valueId : null));
            log.push(`after:${m.type}`);
          },
        },
        timers: { schedule: () => {} },
        clock: { now: () => 5 },
        signer: { load: () => null, save: (rec) => log.push(`save:${rec.step}`) },
        wal: new MemoryWal(),
        blocks: new MemoryBlockStore(),
      },
    );
    driver.start();
    // The prevote of c is handled after the proposal's effects, never in the middle of them.
    expect(log.slice(0, 3)).toEqual(["save:0", "broadcast:proposal", "after:proposal"]);
    expect(Object.keys(driver.state!.rounds[0].prevotes)).toContain(PUB[2]);
  });

  it("a host that stops the driver from a port in the middle of a step gets none of that step's later effects", () => {
    const log: string[] = [];
    let driver: ReturnType<typeof createGroupDriver<number>> | null = null;
    driver = createGroupDriver(
      { consensus: config(1), genesis: 0, gossipIntervalMs: 0 },
      {
        transport: { send: () => {}, broadcast: (m) => log.push(`broadcast:${m.type}`) },
        timers: { schedule: () => {} },
        clock: { now: () => 5 },
        // The proposal's record is saved, then the host shuts the group down.
        signer: { load: () => null, save: (rec) => (log.push(`save:${rec.step}`), driver!.stop()) },
        wal: { append: () => log.push("wal"), entries: () => [], truncateBelow: () => {} },
        blocks: new MemoryBlockStore(),
      },
    );
    driver.start();
    expect(log).toEqual(["save:0"]);
    expect(driver.running).toBe(false);
  });

  it("gossip re-sends the height's messages as relays once the height has stalled for the interval, and not before", () => {
    const r = rig({ driver: { gossipIntervalMs: 200 } });
    r.driver.start();
    r.driver.receive(PUB[1], proposal(1, 0, V));
    const tick = () => r.timers.splice(r.timers.findIndex((t) => t.ms === 200), 1)[0].fire();
    r.clock.t += 100;
    tick();
    expect(r.sent.filter((s) => s.relay)).toEqual([]);
    r.clock.t += 200;
    tick();
    const relays = r.sent.filter((s) => s.relay).map((s) => s.message.type);
    expect(relays.sort()).toEqual(["prevote", "proposal"]);
    expect(r.driver.counters.gossiped).toBe(2);
  });

  it("each re-send without progress doubles the wait before the next (up to 8 intervals), so a slow height is not flooded", () => {
    const r = rig({ driver: { gossipIntervalMs: 200 } });
    r.driver.start();
    r.driver.receive(PUB[1], proposal(1, 0, V));
    const at: number[] = [];
    const t0 = r.clock.t;
    // Checked every interval for 6 s of a stalled height: re-sends at 200, 600, 1400, 3000, 4600 ms (waits 200, 400, 800, 1600, 1600).
    for (let k = 1; k <= 30; k++) {
      r.clock.t = t0 + k * 200;
      const before = r.driver.counters.gossiped;
      r.timers.splice(r.timers.findIndex((t) => t.ms === 200), 1)[0].fire();
      if (r.driver.counters.gossiped > before) at.push(r.clock.t - t0);
    }
    expect(at).toEqual([200, 600, 1400, 3000, 4600]);
  });
});

describe("group driver: a broken node stops the group loudly", () => {
  it("CONSENSUS_APP_FAULT from the application reaches the caller and events.stopped; the failed step's prevote never leaves", () => {
    const app = { ...APP, validateValue: () => { throw new Error("no code runner"); } };
    const r = rig({ consensus: { app } });
    r.driver.start();
    let thrown: unknown = null;
    try {
      r.driver.receive(PUB[1], proposal(1, 0, V));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatecellError);
    expect((thrown as StatecellError).code).toBe("CONSENSUS_APP_FAULT");
    expect(r.events.stopped).toEqual([thrown]);
    expect(r.driver.fault).toBe(thrown);
    expect(r.driver.running).toBe(false);
    expect(sentOf(r, "prevote")).toEqual([]);
    expect(r.store.load()).toBeNull();
    // Stopped: frames and timers are ignored, and nothing throws any more.
    expect(() => r.driver.receive(PUB[1], proposal(1, 0, V))).not.toThrow();
    for (const t of r.timers) t.fire();
    expect(r.sent).toEqual([]);
  });

  it("a signer store that fails to save stops the group before the signature is sent", () => {
    const disk = new Error("disk full");
    const driver = createGroupDriver(
      { consensus: config(1), genesis: 0 },
      {
        transport: { send: () => {}, broadcast: () => expect.unreachable("nothing may leave") },
        timers: { schedule: () => {} },
        clock: { now: () => 0 },
        signer: { load: () => null, save: () => { throw disk; } },
        wal: new MemoryWal(),
        blocks: new MemoryBlockStore(),
      },
    );
    expect(() => driver.start()).toThrow(disk);
    expect(driver.fault).toBe(disk);
    expect(driver.running).toBe(false);
  });

  it("two drivers writing one block store: the second to decide height 1 stops with CONSENSUS_BLOCK_STORE_GAP", () => {
    const blocks = new MemoryBlockStore<number>();
    const a = rig({ stores: { store: new MemorySignerStore(), wal: new MemoryWal(), blocks } });
    const b = rig({ self: 2, stores: { store: new MemorySignerStore(), wal: new MemoryWal(), blocks } });
    a.driver.start();
    b.driver.start();
    decideOne(a);
    b.driver.receive(PUB[1], proposal(1, 0, V));
    for (const i of [1, 3]) b.driver.receive(PUB[i], vote(i, "prevote", 0, id(V)));
    b.driver.receive(PUB[1], vote(1, "precommit", 0, id(V)));
    // With its own precommit, d's is the third: c decides height 1, which the store already holds.
    expect(() => b.driver.receive(PUB[3], vote(3, "precommit", 0, id(V)))).toThrow(/decided height 1, but the block store's last block is height 1/);
    expect((b.driver.fault as StatecellError).code).toBe("CONSENSUS_BLOCK_STORE_GAP");
    expect(blocks.blocks).toHaveLength(1);
  });

  it("options out of range are refused when the driver is made: CONSENSUS_DRIVER_CONFIG names the value and the least allowed", () => {
    const make = (catchup: object, extra: object = {}) => () =>
      createGroupDriver({ consensus: config(0), genesis: 0, catchup, ...extra }, { transport: { send() {}, broadcast() {} }, timers: { schedule() {} }, clock: { now: () => 0 }, signer: new MemorySignerStore(), wal: new MemoryWal(), blocks: new MemoryBlockStore() });
    expect(make({ maxBytes: 1000 })).toThrow(/catchup\.maxBytes is 1000; it must be an integer of at least maxFrameBytes \+ 65536 = 1114112/);
    expect(make({ maxBlocks: 0 })).toThrow(/catchup\.maxBlocks is 0/);
    expect(make({}, { serveBurst: 0 })).toThrow(/serveBurst is 0; it must be a number >= 1/);
    try {
      make({ maxBytes: 1000 })();
    } catch (e) {
      expect((e as StatecellError).code).toBe("CONSENSUS_DRIVER_CONFIG");
      expect((e as StatecellError).remedy).toMatch(/at least 1114112/);
    }
  });
});

describe("group driver: catch-up", () => {
  it("a node behind asks the validator that signed at a higher height, at most once per interval", () => {
    const r = rig();
    r.driver.start();
    r.driver.receive(PUB[2], vote(2, "prevote", 0, null, 3));
    r.driver.receive(PUB[3], vote(3, "prevote", 0, null, 3));
    expect(sentOf(r, "catchup-request")).toEqual([{ type: "catchup-request", channel: "ch", cell: "cell", fromHeight: 1, max: 16, maxBytes: 4 * 1_048_576 }]);
    expect(r.log.filter((l) => l.startsWith("send"))).toEqual(["send:2:catchup-request"]);
    expect(r.driver.counters.catchupThrottled).toBe(1);
    r.clock.t += 100;
    r.driver.receive(PUB[3], vote(3, "precommit", 0, null, 3));
    expect(r.log.filter((l) => l.startsWith("send"))).toEqual(["send:2:catchup-request", "send:3:catchup-request"]);
  });

  it("the answer is applied block by block, each after its certificate verifies, and the driver asks the same peer for more", () => {
    const r = rig();
    r.driver.start();
    r.driver.receive(PUB[2], vote(2, "prevote", 0, null, 3));
    r.driver.receive(PUB[2], { type: "catchup-response", channel: "ch", cell: "cell", fromHeight: 1, blocks: [certified(1), certified(2)] });
    expect(r.driver.state?.height).toBe(3);
    expect(r.events.decided).toEqual([
      { height: 1, source: "catch-up" },
      { height: 2, source: "catch-up" },
    ]);
    expect(r.blocks.head()?.state).toBe(2);
    expect(sentOf(r, "catchup-request").map((m) => m.fromHeight)).toEqual([1, 3]);
  });

  it("a node serves its stored blocks, no more than the asker takes or it sends itself", () => {
    const r = rig({ driver: { catchup: { maxBlocks: 3 } } });
    for (let h = 1; h <= 6; h++) r.blocks.append(certified(h), id(value("v", h)), h);
    r.driver.start();
    const ask = (fromHeight: number, max: number, maxBytes = 1 << 22) => r.driver.receive(PUB[3], { type: "catchup-request", channel: "ch", cell: "cell", fromHeight, max, maxBytes });
    ask(2, 2);
    ask(2, 100);
    const one = JSON.stringify({ type: "catchup-response", channel: "ch", cell: "cell", fromHeight: 5, blocks: [certified(5)] }).length;
    ask(5, 10, one);
    ask(9, 10);
    const answers = sentOf(r, "catchup-response").map((m) => m.blocks.map((b) => b.height));
    expect(answers).toEqual([[2, 3], [2, 3, 4], [5]]);
    expect(r.driver.counters.catchupServed).toBe(3);
  });
});
