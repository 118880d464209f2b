/**
 * The consensus core: `step(state, event) -> { state, effects }`, Algorithm 1
 * of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic), as
 * docs/consensus.md numbers its rules. No clock (time arrives in events), no I/O
 * (effects say what to send, store and schedule), no randomness (ed25519
 * signatures are deterministic). Rule numbers below refer to docs/consensus.md.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import { buildCertificate, verifyCertificate } from "./certificate.js";
import { exceedsJsonSize } from "./frame-size.js";
import { parseFrame, signMessage, signingString, stepIndex } from "./messages.js";
import { copyRound, DEFAULT_LIMITS, emptyRound, type ConsensusConfig, type ConsensusLimits, type ConsensusState, type RoundState } from "./state.js";
import type {
  CertifiedBlock,
  ConsensusEffect,
  ConsensusEvent,
  ConsensusMessage,
  DropReason,
  MessageType,
  Proposal,
  SignedRecord,
  TimeoutRef,
  Vote,
} from "./types.js";
import { proposerOf } from "./validator-set.js";

export interface StepResult<S> {
  state: ConsensusState<S>;
  effects: ConsensusEffect[];
}

type Draft<S> = { -readonly [K in keyof ConsensusState<S>]: ConsensusState<S>[K] };

const resolvedLimits = new WeakMap<object, ConsensusLimits>();

function limitsOf<S>(cfg: ConsensusConfig<S>): ConsensusLimits {
  let l = resolvedLimits.get(cfg);
  if (!l) {
    l = { ...DEFAULT_LIMITS, ...cfg.limits };
    if (l.nextHeightBuffer <= 0) l.nextHeightBuffer = 8 * cfg.validators.size;
    resolvedLimits.set(cfg, l);
  }
  return l;
}

/** Working copy of one step: copy-on-write of rounds, the effects so far. */
class Ctx<S> {
  readonly s: Draft<S>;
  readonly effects: ConsensusEffect[] = [];
  readonly cfg: ConsensusConfig<S>;
  readonly limits: ConsensusLimits;
  private touched = new Set<number>();

  constructor(
    state: ConsensusState<S>,
    readonly now: number,
  ) {
    this.s = { ...state, rounds: { ...state.rounds } };
    this.cfg = state.config;
    this.limits = limitsOf(state.config);
  }

  /** The round, copied once per step before its first change. */
  round(r: number): RoundState {
    if (!this.touched.has(r)) {
      const old = this.s.rounds[r];
      (this.s.rounds as Record<number, RoundState>)[r] = old ? copyRound(old) : emptyRound();
      this.touched.add(r);
    }
    return this.s.rounds[r];
  }

  resetRounds(): void {
    this.s.rounds = {};
    this.touched.clear();
  }

  drop(reason: DropReason, detail?: string, validator?: string): void {
    this.effects.push({ kind: "drop", reason, ...(detail === undefined ? {} : { detail }), ...(validator === undefined ? {} : { validator }) });
  }
}

/** Most rule firings in one step: each moves the state forward (a vote, a lock, a round), so a step that reaches it is broken. */
const MAX_FIRINGS = 10_000;

/**
 * Advances one group's consensus by one event.
 *
 * Throws (a StatecellError) only when this node is broken, never because of
 * what peers sent: CONSENSUS_APP_FAULT when the application throws,
 * CONSENSUS_APP_DIVERGED when it cannot reproduce a certified block, and
 * CONSENSUS_STUCK when the rules do not settle. The state given is unchanged
 * and the effects of the failed step must not be executed; the node stops
 * (docs/consensus.md, "Faults").
 * @example
 * let { state, effects } = step(createState(config, genesis), { kind: "start", now: 0 });
 */
export function step<S>(state: ConsensusState<S>, event: ConsensusEvent): StepResult<S> {
  const c = new Ctx(state, event.now);
  switch (event.kind) {
    case "start":
      if (c.s.step === "new-height") startRound(c, 0);
      break;
    case "inputs":
      c.s.pending = event.inputs;
      break;
    case "message":
      onMessage(c, event.frame);
      break;
    case "timeout":
      onTimeout(c, event.timeout);
      break;
    case "certified-block":
      onCertifiedBlock(c, event.block, event.from);
      break;
  }
  progress(c);
  return { state: c.s, effects: c.effects };
}

// ---------------------------------------------------------------- messages

function onMessage<S>(c: Ctx<S>, frame: unknown): void {
  const parsed = parseFrame(frame, c.limits.maxFrameBytes);
  if (!parsed.ok) return c.drop(parsed.reason, parsed.detail);
  const m = parsed.message;
  const { cfg, s } = c;
  const set = cfg.validators;
  if (m.channel !== cfg.channel) return c.drop("wrong-channel", m.channel);
  if (m.cell !== cfg.cell) return c.drop("wrong-cell", m.cell);
  if (!set.index.has(m.validator)) return c.drop("non-member", undefined, m.validator);
  if (m.height < s.height) return c.drop("stale-height", `${m.height} < ${s.height}`, m.validator);
  // Cheap checks before the ~80 µs signature check.
  if (m.type === "proposal") {
    if (m.validator !== proposerOf(set, m.height, m.round)) return c.drop("not-proposer", undefined, m.validator);
    // A proposal re-sent by gossip: same signed fields and signature as one already held (whose value hashed to
    // its valueId). Its value is never used, so it is dropped before it is hashed (~10 ms for 1,000 inputs).
    if (m.height === s.height && s.rounds[m.round]?.proposals.some((p) => p.signature === m.signature && p.valueId === m.valueId && p.validRound === m.validRound && p.validator === m.validator)) {
      return c.drop("duplicate", undefined, m.validator);
    }
    let id: string;
    try {
      id = cfg.app.valueId(m.value);
    } catch {
      return c.drop("malformed", "the value cannot be hashed", m.validator);
    }
    if (id !== m.valueId) return c.drop("bad-value-id", undefined, m.validator);
  }
  if (!verified(c, m)) return c.drop("bad-signature", undefined, m.validator);

  if (m.height > s.height) return onAhead(c, m);
  if (m.round > s.round) {
    if ((s.maxRound[m.validator] ?? -1) < m.round) s.maxRound = { ...s.maxRound, [m.validator]: m.round };
    if (m.round > s.round + c.limits.roundsAhead) return c.drop("round-too-far", `${m.round}`, m.validator);
  }
  if (addMessage(c, m, false)) c.effects.push({ kind: "wal", entry: { height: s.height, event: { kind: "message", frame: m, now: c.now } } });
}

function verified<S>(c: Ctx<S>, m: ConsensusMessage): boolean {
  return c.cfg.verifier.verify(m.validator, signingString(m), m.signature);
}

/** A verified message from a higher height: keep the next height's, and ask its signer for the blocks in between. */
function onAhead<S>(c: Ctx<S>, m: ConsensusMessage): void {
  const { s } = c;
  // A validator of the group signed at a higher height: this node may have missed a decision that
  // nobody will re-send it. Asking costs little (the host rate-limits requests; a lying peer's blocks
  // fail their certificate), and waiting for f+1 could wait forever when only one peer moved on.
  c.effects.push({ kind: "request-catchup", peer: m.validator, fromHeight: s.height });
  if (s.nextHeight.some((x) => x.signature === m.signature)) return c.drop("duplicate", undefined, m.validator);
  if (m.height === s.height + 1 && s.nextHeight.length < c.limits.nextHeightBuffer && m.round <= c.limits.roundsAhead) {
    s.nextHeight = [...s.nextHeight, m];
    return;
  }
  c.drop("future-height", `${m.height} > ${s.height}`, m.validator);
}

/** Adds a verified message of the current height to its round; records equivocation. Returns whether it was new. */
function addMessage<S>(c: Ctx<S>, m: ConsensusMessage, own: boolean): boolean {
  const existing = c.s.rounds[m.round];
  if (m.type === "proposal") {
    const props = existing?.proposals ?? [];
    if (props.some((p) => p.valueId === m.valueId && p.validRound === m.validRound)) {
      if (!own) c.drop("duplicate", undefined, m.validator);
      return false;
    }
    if (props.length > 0) evidence(c, "duplicate-proposal", props[0], m);
    if (props.length >= c.limits.proposalsPerRound) {
      c.drop("too-many-proposals", undefined, m.validator);
      return false;
    }
    c.round(m.round).proposals.push(m);
    return true;
  }
  const list = (m.type === "prevote" ? existing?.prevotes : existing?.precommits)?.[m.validator] ?? [];
  if (list.some((v) => v.valueId === m.valueId)) {
    if (!own) c.drop("duplicate", undefined, m.validator);
    return false;
  }
  if (list.length > 0) evidence(c, "duplicate-vote", list[0], m);
  if (list.length >= c.limits.votesPerValidator) {
    c.drop("equivocation", undefined, m.validator);
    return false;
  }
  const r = c.round(m.round);
  const id = m.valueId ?? "nil";
  if (m.type === "prevote") {
    r.prevotes[m.validator] = [...list, m];
    r.prevoteCount[id] = (r.prevoteCount[id] ?? 0) + 1;
    if (list.length === 0) r.prevoteTotal++;
  } else {
    r.precommits[m.validator] = [...list, m];
    r.precommitCount[id] = (r.precommitCount[id] ?? 0) + 1;
    if (list.length === 0) r.precommitTotal++;
  }
  return true;
}

function evidence<S>(c: Ctx<S>, kind: "duplicate-vote" | "duplicate-proposal", first: ConsensusMessage, second: ConsensusMessage): void {
  const key = `${second.validator}:${second.type}:${second.round}`;
  if (c.s.reported[key]) return;
  c.s.reported = { ...c.s.reported, [key]: true };
  c.effects.push({
    kind: "evidence",
    evidence: { kind, validator: second.validator, height: second.height, round: second.round, type: second.type, first, second },
  });
}

// ---------------------------------------------------------------- signing

function compareToRecord(height: number, round: number, stepIx: number, r: SignedRecord): number {
  return height !== r.height ? height - r.height : round !== r.round ? round - r.round : stepIx - r.step;
}

/**
 * The signer guard. Signs only above the last persisted (height, round,
 * step); at the same one it re-sends the exact stored message; below it,
 * refuses. The `persist` effect precedes the `broadcast`.
 */
function sign<S>(c: Ctx<S>, type: MessageType, valueId: string | null, value?: Json, validRound?: number): void {
  const { s, cfg } = c;
  // An observer, or a key that is not (or no longer) in the group, follows without signing.
  if (!cfg.self || !cfg.validators.index.has(cfg.self.publicKey)) return;
  const ix = stepIndex(type);
  const rec = s.signer;
  const cmp = rec ? compareToRecord(s.height, s.round, ix, rec) : 1;
  if (rec && cmp < 0) return c.drop("signer-guard", `would sign ${type} ${s.height}/${s.round} below ${rec.height}/${rec.round}/${rec.step}`);
  if (rec && cmp === 0) {
    c.effects.push({ kind: "broadcast", message: rec.message });
    addMessage(c, rec.message, true);
    return;
  }
  const base = { channel: cfg.channel, cell: cfg.cell, height: s.height, round: s.round, validator: cfg.self.publicKey };
  const msg: ConsensusMessage =
    type === "proposal"
      ? signMessage<Proposal>({ type, ...base, validRound: validRound ?? -1, valueId: valueId as string, value: value as Json }, cfg.self)
      : signMessage<Vote>({ type, ...base, valueId }, cfg.self);
  const record: SignedRecord = { height: s.height, round: s.round, step: ix, valueId, message: msg };
  s.signer = record;
  c.effects.push({ kind: "persist", record });
  c.effects.push({ kind: "wal", entry: { height: s.height, event: { kind: "message", frame: msg, now: c.now } } });
  c.effects.push({ kind: "broadcast", message: msg });
  addMessage(c, msg, true);
}

function vote<S>(c: Ctx<S>, type: "prevote" | "precommit", valueId: string | null): void {
  c.s.step = type;
  sign(c, type, valueId);
}

// ---------------------------------------------------------------- rounds and timeouts

function schedule<S>(c: Ctx<S>, stepName: TimeoutRef["step"], round: number): void {
  const t = c.cfg.timeouts;
  const duration = stepName === "commit" ? t.commit : t[stepName].base + round * t[stepName].delta;
  c.effects.push({ kind: "schedule-timeout", timeout: { step: stepName, height: c.s.height, round }, duration });
}

/** Rule 1: StartRound(r). */
function startRound<S>(c: Ctx<S>, r: number): void {
  const { s, cfg } = c;
  s.round = r;
  s.step = "propose";
  if (cfg.self && proposerOf(cfg.validators, s.height, r) === cfg.self.publicKey) {
    if (s.valid) {
      sign(c, "proposal", s.valid.valueId, s.valid.value, s.validRound);
    } else {
      const value = appCall(c, "buildValue", () => cfg.app.buildValue({ height: s.height, round: r, prevHash: s.prevHash, time: c.now, state: s.app, pending: s.pending }));
      sign(c, "proposal", appCall(c, "valueId", () => cfg.app.valueId(value)), value, -1);
    }
  }
  // Also scheduled for the proposer: if the guard refused its proposal (restart), it must still move on.
  schedule(c, "propose", r);
}

function onTimeout<S>(c: Ctx<S>, t: TimeoutRef): void {
  const { s } = c;
  if (t.height !== s.height) return;
  const log = () => c.effects.push({ kind: "wal", entry: { height: s.height, event: { kind: "timeout", timeout: t, now: c.now } } });
  switch (t.step) {
    case "commit":
      if (s.step === "new-height") startRound(c, 0);
      return;
    case "propose":
      if (t.round === s.round && s.step === "propose") {
        log();
        vote(c, "prevote", null);
      }
      return;
    case "prevote":
      if (t.round === s.round && s.step === "prevote") {
        log();
        vote(c, "precommit", null);
      }
      return;
    case "precommit":
      if (t.round === s.round && s.step !== "new-height") {
        log();
        startRound(c, t.round + 1);
      }
      return;
  }
}

// ---------------------------------------------------------------- the upon-rules

function isValid<S>(c: Ctx<S>, p: Proposal): boolean {
  const known = c.s.validity[p.valueId];
  if (known !== undefined) return known;
  // validateValue answers false for a hostile value; a throw means this node cannot judge blocks,
  // and prevoting nil would hide that (and, with enough such nodes, stall the group).
  const ok = appCall(c, "validateValue", () => c.cfg.app.validateValue({ height: c.s.height, prevHash: c.s.prevHash, state: c.s.app }, p.value)) === true;
  c.s.validity = { ...c.s.validity, [p.valueId]: ok };
  return ok;
}

function findProposal<S>(c: Ctx<S>, valueId: string): Proposal | undefined {
  for (const k in c.s.rounds) {
    const p = c.s.rounds[k].proposals.find((x) => x.valueId === valueId);
    if (p) return p;
  }
  return undefined;
}

/** Applies every rule that holds until none does (the paper's "upon" clauses). */
function progress<S>(c: Ctx<S>): void {
  for (let fired = 0; fired < MAX_FIRINGS; fired++) {
    if (!fireOne(c)) return;
  }
  // Every firing moves the state forward, so this is a bug or a hand-built configuration; going on
  // would execute a step cut short at an arbitrary rule.
  const { s } = c;
  throw new StatecellError(
    "CONSENSUS_STUCK",
    `the rules still fired after 10,000 firings in one step at height ${s.height}, round ${s.round}, step ${s.step}`,
    {
      remedy: "stop the node: build the validator set with validatorSet() (its quorum and skip must be q and n - q + 1), and report the event and the node's WAL if it was built that way",
      payload: { height: s.height, round: s.round, step: s.step },
    },
  );
}

/**
 * Calls the application. What it throws means this node is broken, not that a
 * peer misbehaved: the step stops with CONSENSUS_APP_FAULT (a CONSENSUS_*
 * error the application raised, such as CONSENSUS_APP_DIVERGED, goes out as it is).
 */
function appCall<S, T>(c: Ctx<S>, call: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StatecellError && e.code.startsWith("CONSENSUS_")) throw e;
    const what = e instanceof StatecellError ? `${e.code}: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new StatecellError("CONSENSUS_APP_FAULT", `the application's ${call} threw at height ${c.s.height}, round ${c.s.round}: ${what}`, {
      remedy: "stop the node and fix what the cause names (a missing code runner, a closed store), then restart it: it replays its WAL and votes again",
      payload: { call, height: c.s.height, round: c.s.round },
      cause: e,
    });
  }
}

function fireOne<S>(c: Ctx<S>): boolean {
  const { s, cfg } = c;
  const q = cfg.validators.quorum;
  if (tryDecide(c)) return true;
  if (s.step === "new-height") return roundSkip(c);
  if (roundSkip(c)) return true;
  const r = s.round;
  const R = s.rounds[r];
  const unlocked = cfg.test?.unsafeDisableLocking === true;
  if (s.step === "propose" && R) {
    for (const p of R.proposals) {
      if (p.validRound === -1) {
        // Rule 2.
        const ok = isValid(c, p) && (unlocked || s.lockedRound === -1 || s.locked?.valueId === p.valueId);
        vote(c, "prevote", ok ? p.valueId : null);
        return true;
      }
      const vr = p.validRound;
      if ((s.rounds[vr]?.prevoteCount[p.valueId] ?? 0) >= q) {
        // Rule 3: a proof-of-lock from round vr.
        const ok = isValid(c, p) && (unlocked || s.lockedRound <= vr || s.locked?.valueId === p.valueId);
        vote(c, "prevote", ok ? p.valueId : null);
        return true;
      }
    }
  }
  if (!R) return false;
  if (s.step === "prevote" && !R.prevoteTimeout && R.prevoteTotal >= q) {
    // Rule 4.
    c.round(r).prevoteTimeout = true;
    schedule(c, "prevote", r);
    return true;
  }
  if ((s.step === "prevote" || s.step === "precommit") && !R.lockDone) {
    // Rule 5.
    for (const p of R.proposals) {
      if ((R.prevoteCount[p.valueId] ?? 0) >= q && isValid(c, p)) {
        c.round(r).lockDone = true;
        if (s.step === "prevote") {
          if (!unlocked) {
            s.locked = { valueId: p.valueId, value: p.value };
            s.lockedRound = r;
          }
          vote(c, "precommit", p.valueId);
        }
        s.valid = { valueId: p.valueId, value: p.value };
        s.validRound = r;
        return true;
      }
    }
  }
  if (s.step === "prevote" && (R.prevoteCount.nil ?? 0) >= q) {
    // Rule 6.
    vote(c, "precommit", null);
    return true;
  }
  if (!R.precommitTimeout && R.precommitTotal >= q) {
    // Rule 7.
    c.round(r).precommitTimeout = true;
    schedule(c, "precommit", r);
    return true;
  }
  return false;
}

/** Rule 9: f+1 validators at rounds above ours: jump to the highest round that f+1 of them reached. */
function roundSkip<S>(c: Ctx<S>): boolean {
  const { s } = c;
  const skip = c.cfg.validators.skip;
  const above: number[] = [];
  for (const k in s.maxRound) if (s.maxRound[k] > s.round) above.push(s.maxRound[k]);
  if (above.length < skip) return false;
  above.sort((a, b) => b - a);
  startRound(c, above[skip - 1]);
  return true;
}

/** Rule 8: a proposal plus a quorum of precommits for its id, in any round. */
function tryDecide<S>(c: Ctx<S>): boolean {
  const { s } = c;
  const q = c.cfg.validators.quorum;
  for (const k in s.rounds) {
    const R = s.rounds[k];
    if (R.precommitTotal < q) continue;
    for (const id in R.precommitCount) {
      if (id === "nil" || R.precommitCount[id] < q) continue;
      const p = findProposal(c, id);
      if (!p || !isValid(c, p)) continue;
      const votes = Object.values(R.precommits).flatMap((list) => list.filter((v) => v.valueId === id));
      const block: CertifiedBlock = { height: s.height, value: p.value, certificate: buildCertificate(c.cfg.validators, votes) };
      c.effects.push({ kind: "decide", block, valueId: id, source: "consensus" });
      enterNextHeight(c, p.value, id);
      return true;
    }
  }
  return false;
}

function enterNextHeight<S>(c: Ctx<S>, value: Json, valueId: string): void {
  const { s, cfg } = c;
  const buffered = s.nextHeight;
  const before = s.app;
  const pending = s.pending;
  s.app = appCall(c, "applyValue", () => cfg.app.applyValue(before, value));
  s.pending = cfg.app.remainingInputs ? appCall(c, "remainingInputs", () => cfg.app.remainingInputs!(pending, value)) : [];
  s.height = s.height + 1;
  s.round = 0;
  s.step = "new-height";
  s.locked = null;
  s.lockedRound = -1;
  s.valid = null;
  s.validRound = -1;
  s.prevHash = valueId;
  c.resetRounds();
  s.maxRound = {};
  s.validity = {};
  s.nextHeight = [];
  s.reported = {};
  // Always through a timeout, even of 0 ms: the host paces heights (a group of one would otherwise
  // decide height after height inside one step).
  schedule(c, "commit", 0);
  for (const m of buffered) onMessage(c, m);
}

// ---------------------------------------------------------------- catch-up

function onCertifiedBlock<S>(c: Ctx<S>, frame: unknown, from: string | undefined): void {
  const { s, cfg } = c;
  const bad = (reason: DropReason, detail: string) => {
    c.drop(reason, detail, from);
    c.effects.push({ kind: "bad-peer", peer: from, reason, detail });
  };
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return bad("malformed", "a certified block is an object");
  const b = frame as Record<string, unknown>;
  if (!Number.isSafeInteger(b.height) || b.value === undefined || typeof b.certificate !== "object") {
    return bad("malformed", "a certified block has height, value and certificate");
  }
  const height = b.height as number;
  if (height < s.height) return c.drop("stale-height", `${height} < ${s.height}`, from);
  if (height > s.height) return c.drop("future-height", `${height} > ${s.height}: blocks are applied in order`, from);
  // Bounded before it is hashed, like a proposal's value: an honest block fits in a proposal frame.
  if (exceedsJsonSize(b.value, c.limits.maxFrameBytes)) return bad("too-large", `height ${height}: the value is larger than ${c.limits.maxFrameBytes} bytes`);
  let valueId: string;
  try {
    valueId = cfg.app.valueId(b.value as Json);
  } catch {
    return bad("malformed", "the value cannot be hashed");
  }
  const check = verifyCertificate(cfg.validators, null, { channel: cfg.channel, cell: cfg.cell, height, valueId }, b.certificate, cfg.verifier);
  if (!check.ok) return bad("bad-certificate", `${check.code}: ${check.message}`);
  // Not isValid: its memo may hold this node's "not valid (yet)" for the same value seen as a
  // proposal, before it held what the certificate vouches for.
  const ok = appCall(c, "validateValue", () => cfg.app.validateValue({ height: s.height, prevHash: s.prevHash, state: s.app, certified: true }, b.value as Json)) === true;
  if (!ok) {
    // A quorum certified a block that does not re-execute: more faulty validators than the threshold tolerates.
    return bad("invalid-certified-value", `height ${height}: certified value ${valueId.slice(0, 12)} does not re-execute`);
  }
  const block: CertifiedBlock = { height, value: b.value as Json, certificate: b.certificate as CertifiedBlock["certificate"] };
  c.effects.push({ kind: "decide", block, valueId, source: "catch-up" });
  enterNextHeight(c, block.value, valueId);
}
