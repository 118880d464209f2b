/**
 * The script that runs first in every sandbox context. It hardens the realm
 * (no code generation from strings, no timers, no clocks, no process/require,
 * seeded randomness, deep-frozen intrinsics) and returns `install`, which
 * takes the author's hook factory and returns `run`, the one function the
 * host calls per hook call (one `applySync` per batch).
 *
 * Why a factory per input: the author's top-level bindings are re-created for
 * every input, and the global object and every intrinsic are frozen, so no
 * value survives from one input to the next except the state `reduce`
 * returns. That makes a batch call and one call per input give the same
 * results, which the timeout fallback and validators rely on.
 *
 * Wire format (JSON text both ways, measured against ExternalCopy in
 * bench/sandbox.ts):
 *   run(hook, payload, stateJson?) with payload =
 *     { b: [block...], s: [state...], d: [data...], x: [ctx.index...],
 *       k: [blockIdx...] | null (all 0), l: [stateIdx...] | null (all 0), g: [signer...] | null (all null),
 *       t: the cell's budget in ms (per input, and named in timeout messages),
 *       a: [[budgetMs, agreeMs]...] per input in validator mode, else null,
 *       o: maxOutputChars, m: maxStateChars }
 *   returns "[r0,r1,...]" (validate, transform) or '{"s":state,"r":[...]}' (reduce), where r is
 *     1 (ok), {"x":reason} (validate reject), {"o":[outputs]} (transform),
 *     {"f":"TIMEOUT"|"THROW"|"OUTPUT","m":message,"e":elapsedMs} (fault).
 */
export const PRELUDE = String.raw`(function statecellPrelude() {
"use strict";
const g = globalThis;
const RealDate = g.Date;
const realNow = RealDate.now;
const jsonParse = JSON.parse;
const jsonStringify = JSON.stringify;
const isArray = Array.isArray;
const getProto = Object.getPrototypeOf;
const objectKeys = Object.keys;
const freeze = Object.freeze;
const isFrozen = Object.isFrozen;
const defineProperty = Object.defineProperty;
const ownKeys = Reflect.ownKeys;
const getOwnDescriptor = Reflect.getOwnPropertyDescriptor;
const reflectConstruct = Reflect.construct;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const StringFn = String;
const ErrorCtor = Error;
const imul = Math.imul;
const MAX_DEPTH = 64;
const MAX_MESSAGE = 1000;

// ---- deterministic randomness: cyrb128 string hash seeding sfc32 (integer ops only) ----
function seedOf(str) {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ imul(h1 ^ k, 597399067);
    h2 = h3 ^ imul(h2 ^ k, 2869860233);
    h3 = h4 ^ imul(h3 ^ k, 951274213);
    h4 = h1 ^ imul(h4 ^ k, 2716044179);
  }
  h1 = imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}
function makeRandom(hash, index) {
  let [a, b, c, d] = seedOf("statecell:random:" + hash + ":" + index);
  const next = function next() {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
// The current input's stream, seeded on first use: most hooks never draw, and
// hashing the seed costs more than the rest of a trivial hook.
let seedHash = "", seedIndex = 0, stream = null;
const random = function random() {
  if (stream === null) stream = makeRandom(seedHash, seedIndex);
  return stream();
};
let blockTime = 0;

// ---- Math.random: the input's seeded stream (the same function as ctx.random) ----
defineProperty(Math, "random", { value: random, writable: false, configurable: false });

// ---- Date: no wall clock; "now" is block.time; local time is UTC on every machine ----
const DateProto = RealDate.prototype;
function SafeDate(...args) {
  if (new.target === undefined) return new RealDate(blockTime).toISOString();
  if (args.length === 0) return reflectConstruct(RealDate, [blockTime], new.target);
  if (args.length === 1) return reflectConstruct(RealDate, [args[0]], new.target);
  return reflectConstruct(RealDate, [RealDate.UTC(...args)], new.target);
}
defineProperty(SafeDate, "name", { value: "Date" });
defineProperty(SafeDate, "prototype", { value: DateProto, writable: false });
defineProperty(DateProto, "constructor", { value: SafeDate, writable: true, configurable: true });
SafeDate.now = function now() { return blockTime; };
SafeDate.UTC = RealDate.UTC;
SafeDate.parse = RealDate.parse;
for (const n of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
  defineProperty(DateProto, "get" + n, { value: DateProto["getUTC" + n], writable: true, configurable: true });
  if (n !== "Day") defineProperty(DateProto, "set" + n, { value: DateProto["setUTC" + n], writable: true, configurable: true });
}
const toISOString = DateProto.toISOString;
const getTime = DateProto.getTime;
const utcText = function toString() { const t = getTime.call(this); return t !== t ? "Invalid Date" : toISOString.call(this); };
for (const n of ["toString", "toDateString", "toTimeString", "toLocaleString", "toLocaleDateString", "toLocaleTimeString"]) {
  defineProperty(DateProto, n, { value: utcText, writable: true, configurable: true });
}
defineProperty(DateProto, "getTimezoneOffset", { value: function getTimezoneOffset() { return 0; }, writable: true, configurable: true });
delete DateProto.getYear;
delete DateProto.setYear;
defineProperty(g, "Date", { value: SafeDate, writable: true, configurable: true });

// ---- locale-dependent behaviour differs with the ICU build: make it locale-free ----
const numberToString = Number.prototype.toString;
defineProperty(Number.prototype, "toLocaleString", { value: function toLocaleString() { return numberToString.call(this); }, writable: true, configurable: true });
const bigintToString = BigInt.prototype.toString;
defineProperty(BigInt.prototype, "toLocaleString", { value: function toLocaleString() { return bigintToString.call(this); }, writable: true, configurable: true });
const toUpper = String.prototype.toUpperCase, toLower = String.prototype.toLowerCase;
defineProperty(String.prototype, "toLocaleUpperCase", { value: function toLocaleUpperCase() { return toUpper.call(this); }, writable: true, configurable: true });
defineProperty(String.prototype, "toLocaleLowerCase", { value: function toLocaleLowerCase() { return toLower.call(this); }, writable: true, configurable: true });
defineProperty(String.prototype, "localeCompare", { value: function localeCompare(that) {
  const a = StringFn(this), b = StringFn(that);
  return a < b ? -1 : a > b ? 1 : 0;
}, writable: true, configurable: true });

// ---- no code generation from strings ----
function noCodegen() { throw new EvalError("code generation from strings is disabled in statecell hooks"); }
const FunctionProto = Function.prototype;
defineProperty(noCodegen, "prototype", { value: FunctionProto, writable: false });
for (const proto of [FunctionProto, getProto(async function () {}), getProto(function* () {}), getProto(async function* () {})]) {
  defineProperty(proto, "constructor", { value: noCodegen, writable: false, configurable: false });
}
defineProperty(g, "Function", { value: noCodegen, writable: false, configurable: false });

// ---- nothing that reaches outside, keeps time, shares memory or observes GC ----
for (const n of ["eval", "WebAssembly", "SharedArrayBuffer", "Atomics", "FinalizationRegistry", "WeakRef", "Intl", "console"]) delete g[n];
// RegExp legacy statics (RegExp.$1, lastMatch...) would carry one input's matches into the next.
for (const n of ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$\u0060", "rightContext", "$'"]) delete RegExp[n];
const noop = function log() {};
defineProperty(g, "console", { value: { log: noop, info: noop, warn: noop, error: noop, debug: noop }, writable: false, configurable: false });

// ---- freeze every intrinsic reachable from the global object, and the global itself ----
function deepFreeze(root) {
  const seen = new Set();
  const stack = [root];
  while (stack.length > 0) {
    const o = stack.pop();
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
    seen.add(o);
    for (const k of ownKeys(o)) {
      const d = getOwnDescriptor(o, k);
      if (d === undefined) continue;
      if ("value" in d) stack.push(d.value); else { stack.push(d.get); stack.push(d.set); }
    }
    stack.push(getProto(o));
    freeze(o);
  }
}
deepFreeze(g);

// ---- helpers of run ----
// Our own output errors, recognised without touching the thrown value (a thrown Proxy's traps would run).
const outputErrors = new WeakSet();
function outputError(message) { const e = { message }; outputErrors.add(e); return e; }
function isOutputError(e) { return e !== null && typeof e === "object" && outputErrors.has(e); }
function describe(v) {
  if (v === null) return "null";
  if (isArray(v)) return "an array";
  const t = typeof v;
  return t === "undefined" ? "undefined" : t === "object" ? "an object" : "a " + t;
}
function clip(s) { return s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE) + "..." : s; }
/** A fresh plain-JSON copy of v, or an output error naming the first bad path. */
function clean(v, depth, path) {
  if (v === null) return null;
  const t = typeof v;
  if (t === "string" || t === "boolean") return v;
  if (t === "number") {
    if (v !== v || v === Infinity || v === -Infinity) throw outputError("the value at " + (path || "/") + " is " + StringFn(v) + ", which JSON cannot carry");
    return v;
  }
  if (t !== "object") throw outputError("the value at " + (path || "/") + " is " + describe(v) + ", which JSON cannot carry");
  if (depth >= MAX_DEPTH) throw outputError("the value at " + (path || "/") + " nests deeper than " + MAX_DEPTH + " levels");
  const proto = getProto(v);
  if (isArray(v)) {
    if (proto !== ArrayProto) throw outputError("the array at " + (path || "/") + " is not a plain array");
    const n = v.length;
    if (n > maxChars) throw outputError("the array at " + (path || "/") + " has " + n + " items, over the output limit");
    const a = [];
    for (let i = 0; i < n; i++) a.push(clean(v[i], depth + 1, path + "/" + i));
    return a;
  }
  if (proto !== ObjectProto && proto !== null) throw outputError("the object at " + (path || "/") + " is not a plain object");
  const o = {};
  for (const k of objectKeys(v)) {
    if (k === "__proto__") throw outputError("the object at " + (path || "/") + " has a key __proto__, which statecell never stores");
    o[k] = clean(v[k], depth + 1, path + "/" + k);
  }
  return o;
}
let maxChars = 1 << 20;
function messageOf(e) {
  try {
    if (isOutputError(e)) return e.message;
    if (e instanceof ErrorCtor) {
      const name = StringFn(e.name), msg = StringFn(e.message);
      return clip(name === "Error" ? msg : name + ": " + msg);
    }
    if (typeof e === "string") return clip(e);
    if (e === undefined || typeof e === "symbol" || typeof e === "function") return "the hook threw " + describe(e);
    try { const s = jsonStringify(clean(e, 0, "")); if (s !== undefined) return clip(s); } catch (_) { /* fall through */ }
    return clip(StringFn(e));
  } catch (_) {
    return "the hook threw a value that cannot be shown";
  }
}
function fault(code, message, elapsed) { return jsonStringify({ f: code, m: message, e: elapsed }); }
function deepFreezeValue(v) {
  if (v !== null && typeof v === "object" && !isFrozen(v)) {
    for (const k of objectKeys(v)) deepFreezeValue(v[k]);
    freeze(v);
  }
  return v;
}

let factory = null;
function begin(block, index) {
  blockTime = block.time;
  seedHash = block.hash;
  seedIndex = index;
  stream = null;
}

/**
 * reduce without a per-input snapshot: folds every input, then checks and
 * serialises the final state once. Returns null as soon as anything goes
 * wrong (a throw, a non-object, an input over its time bound, a final state
 * that is not plain JSON); run() then redoes the batch input by input with
 * snapshots, so a fault still rolls back exactly that input. Without this a
 * state of 1,000 records made reduce ~50x slower (bench/sandbox.ts).
 */
function reduceFast(p, blocks, states, stateJson) {
  const datas = p.d, indexes = p.x, times = p.a;
  let state = jsonParse(stateJson);
  for (let n = 0; n < datas.length; n++) {
    const data = datas[n], index = indexes[n];
    const bi = p.k === null ? 0 : p.k[n], si = p.l === null ? 0 : p.l[n], signer = p.g === null ? null : p.g[n];
    const budget = times === null ? p.t : times[n][0];
    const agree = times === null ? -1 : times[n][1];
    const block = blocks[bi];
    begin(block, index);
    const ctx = freeze({ block, signer, index, state: states[si], random });
    const t0 = realNow();
    let r;
    try {
      const fn = factory().reduce;
      if (typeof fn !== "function") return null;
      r = fn(state, data, ctx);
    } catch (e) {
      return null;
    }
    const elapsed = realNow() - t0;
    if (elapsed > budget || (agree >= 0 && elapsed >= agree)) return null;
    if (r === null || typeof r !== "object" || isArray(r) || typeof r.then === "function") return null;
    state = r;
  }
  maxChars = p.m;
  let s;
  try {
    s = jsonStringify(clean(state, 0, ""));
  } catch (e) {
    return null;
  }
  if (s.length > p.m) return null;
  const ones = [];
  for (let n = 0; n < datas.length; n++) ones.push(1);
  return '{"s":' + s + ',"r":[' + ones.join(",") + "]}";
}

function run(hook, payloadJson, stateJson) {
  const p = jsonParse(payloadJson);
  const blocks = p.b, states = p.s, datas = p.d, indexes = p.x, times = p.a, defaultBudget = p.t;
  for (const b of blocks) deepFreezeValue(b);
  for (const s of states) deepFreezeValue(s);
  if (hook === "reduce") {
    const fast = reduceFast(p, blocks, states, stateJson);
    if (fast !== null) return fast;
  }
  const out = [];
  let snap = stateJson, state = hook === "reduce" ? jsonParse(stateJson) : null, pending = null;
  for (let n = 0; n < datas.length; n++) {
    const data = datas[n], index = indexes[n];
    const bi = p.k === null ? 0 : p.k[n], si = p.l === null ? 0 : p.l[n], signer = p.g === null ? null : p.g[n];
    const budget = times === null ? defaultBudget : times[n][0];
    const agree = times === null ? -1 : times[n][1];
    const block = blocks[bi];
    begin(block, index);
    const ctx = freeze({ block, signer, index, state: states[si], random });
    let res;
    const t0 = realNow();
    try {
      const fn = factory()[hook];
      if (typeof fn !== "function") throw new ErrorCtor("the hook " + hook + " is not defined");
      if (hook === "validate") {
        maxChars = p.o;
        const r = fn(data, ctx);
        if (r === true) res = "1";
        else if (r === false) res = '{"x":"rejected by the validate hook"}';
        else if (r !== null && typeof r === "object" && !isArray(r) && typeof r.reject === "string") res = jsonStringify({ x: clip(r.reject) });
        else if (r !== null && typeof r === "object" && typeof r.then === "function") throw outputError("validate returned a promise; hooks must be synchronous (no async function)");
        else throw outputError("validate must return true or { reject: \"reason\" }, got " + describe(r));
      } else if (hook === "transform") {
        maxChars = p.o;
        const r = fn(data, ctx);
        if (r === undefined) throw outputError("transform returned undefined; return an output, an array of outputs, or null for none");
        if (r !== null && typeof r.then === "function") throw outputError("transform returned a promise; hooks must be synchronous");
        const list = r === null ? [] : isArray(r) ? r : [r];
        const parts = [];
        let size = 0;
        for (let k = 0; k < list.length; k++) {
          const s = jsonStringify(clean(list[k], 1, "/" + k));
          size += s.length + 1;
          if (size > p.o) throw outputError("the outputs take over " + p.o + " characters of JSON");
          parts.push(s);
        }
        res = '{"o":[' + parts.join(",") + "]}";
      } else {
        maxChars = p.m;
        const r = fn(state, data, ctx);
        if (r === null || typeof r !== "object" || isArray(r)) throw outputError("reduce must return the state object, got " + describe(r));
        if (typeof r.then === "function") throw outputError("reduce returned a promise; hooks must be synchronous");
        const c = clean(r, 0, "");
        const s = jsonStringify(c);
        if (s.length > p.m) throw outputError("the state takes " + s.length + " characters of JSON, over the limit of " + p.m);
        pending = [c, s];
        res = "1";
      }
    } catch (e) {
      res = fault(isOutputError(e) ? "OUTPUT" : "THROW", messageOf(e), 0);
    }
    const elapsed = realNow() - t0;
    // One message for every timeout (the cell's budget): a validator's verdict must be byte-identical to the proposer's.
    if (elapsed > budget || (agree >= 0 && elapsed >= agree)) res = fault("TIMEOUT", "the hook ran over its time budget of " + defaultBudget + " ms", elapsed);
    if (hook === "reduce") {
      if (res === "1" && pending !== null) { state = pending[0]; snap = pending[1]; }
      else state = jsonParse(snap);
      pending = null;
    }
    out.push(res);
  }
  const list = "[" + out.join(",") + "]";
  return hook === "reduce" ? '{"s":' + snap + ',"r":' + list + "}" : list;
}

function probe() {
  begin({ height: 0, time: 0, hash: "" }, 0);
  const h = factory();
  const names = [];
  for (const n of ["validate", "transform", "reduce"]) if (typeof h[n] === "function") names.push(n);
  return jsonStringify(names);
}

return function install(f) {
  if (factory !== null) throw new ErrorCtor("already installed");
  // The factory is reachable from author code (its name, arguments.callee):
  // frozen, it cannot carry a property from one input to the next.
  deepFreeze(f);
  factory = f;
  return function statecellRun(hook, payloadJson, stateJson) {
    return hook === "probe" ? probe() : run(hook, payloadJson, stateJson);
  };
};
})()`;
