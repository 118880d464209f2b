/**
 * A four-validator group (a, b, c, d; quorum 3) and helpers to sign messages
 * as any of them, for driving one node's `step` by hand.
 */
import type { Json } from "../../../runtime/core/canonical.js";
import { hashJson } from "../../../runtime/core/hash.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import type { GroupPlan } from "../../../runtime/definition/plan.js";
import {
  cachingVerifier,
  createState,
  GENESIS_HASH,
  signMessage,
  step,
  validatorSet,
  type Application,
  type ConsensusConfig,
  type ConsensusEffect,
  type ConsensusEvent,
  type ConsensusMessage,
  type ConsensusState,
  type Proposal,
  type SignedRecord,
  type Vote,
} from "../../../runtime/consensus/index.js";

export const NAMES = ["a", "b", "c", "d"];
export const KEYS = NAMES.map((n) => keyPairFromName(`consensus-test-${n}`));
export const PUB = KEYS.map((k) => k.publicKey);
export const GROUP: GroupPlan = {
  name: "g",
  validators: NAMES,
  threshold: { written: "2/3", quorum: 3, size: 4, safetyFaults: 1, livenessFaults: 1 },
};
export const KEYMAP = Object.fromEntries(NAMES.map((n, i) => [n, PUB[i]]));
export const SET = validatorSet(GROUP, KEYMAP);
export const TIMEOUTS = { propose: { base: 100, delta: 10 }, prevote: { base: 50, delta: 5 }, precommit: { base: 60, delta: 6 }, commit: 0 };

/** Values are `{ height, tag }`; a value with `bad: true` fails validation. State counts blocks. */
export const APP: Application<number> = {
  buildValue: ({ height, round, time }) => ({ height, tag: `built-r${round}`, time }),
  validateValue: (ctx, v) => typeof v === "object" && v !== null && !Array.isArray(v) && v.height === ctx.height && v.bad !== true,
  valueId: (v) => hashJson("test-block", v),
  applyValue: (s) => s + 1,
};

export function value(tag: string, height = 1, extra: Record<string, Json> = {}): Json {
  return { height, tag, ...extra };
}

export const id = (v: Json) => APP.valueId(v);

export function config(self: number | null, extra: Partial<ConsensusConfig<number>> = {}): ConsensusConfig<number> {
  return {
    channel: "ch",
    cell: "cell",
    validators: SET,
    self: self === null ? null : KEYS[self],
    app: APP,
    timeouts: TIMEOUTS,
    verifier: cachingVerifier(),
    ...extra,
  };
}

export function fresh(self: number | null = 0, extra: Partial<ConsensusConfig<number>> = {}, signer: SignedRecord | null = null): ConsensusState<number> {
  return createState(config(self, extra), { height: 1, prevHash: GENESIS_HASH, app: 0, signer });
}

export function proposal(from: number, round: number, v: Json, validRound = -1, height = 1): Proposal {
  return signMessage<Proposal>({ type: "proposal", channel: "ch", cell: "cell", height, round, validRound, valueId: id(v), value: v, validator: PUB[from] }, KEYS[from]);
}

export function vote(from: number, type: "prevote" | "precommit", round: number, valueId: string | null, height = 1): Vote {
  return signMessage<Vote>({ type, channel: "ch", cell: "cell", height, round, valueId, validator: PUB[from] }, KEYS[from]);
}

export function msg(m: unknown): ConsensusEvent {
  return { kind: "message", frame: m, now: 5 };
}

/** Feeds events in order; returns the last state and every effect. */
export function feed(state: ConsensusState<number>, events: ConsensusEvent[]): { state: ConsensusState<number>; effects: ConsensusEffect[] } {
  const effects: ConsensusEffect[] = [];
  let s = state;
  for (const e of events) {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

export function started(self: number | null = 0, extra: Partial<ConsensusConfig<number>> = {}): ConsensusState<number> {
  return step(fresh(self, extra), { kind: "start", now: 1 }).state;
}

export function broadcasts(effects: ConsensusEffect[]): ConsensusMessage[] {
  return effects.flatMap((e) => (e.kind === "broadcast" ? [e.message] : []));
}

export function drops(effects: ConsensusEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === "drop" ? [e.reason] : []));
}

export function timeouts(effects: ConsensusEffect[]): Array<{ step: string; round: number; duration: number }> {
  return effects.flatMap((e) => (e.kind === "schedule-timeout" ? [{ step: e.timeout.step, round: e.timeout.round, duration: e.duration }] : []));
}

/** Node a (index 0) sees proposal `v` from b at round 0 and prevotes for it from b, c, d: it locks on v. */
export function lockedOn(v: Json, extra: Partial<ConsensusConfig<number>> = {}) {
  return feed(started(0, extra), [msg(proposal(1, 0, v)), msg(vote(1, "prevote", 0, id(v))), msg(vote(2, "prevote", 0, id(v)))]);
}
