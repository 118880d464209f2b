/**
 * The script that runs first in every sandbox context. It hardens the realm
 * (no code generation from strings, no timers, no clocks, no process/require,
 * seeded randomness, deep-frozen intrinsics) and returns `install`, which
 * takes the author's hook factory and the host's record reader and returns
 * `run`, the one function the host calls.
 *
 * Why a factory per input: the author's top-level bindings are re-created for
 * every input, and the global object and every intrinsic are frozen, so no
 * value survives from one input to the next except the state `reduce`
 * returns, and that one is handed on as a fresh checked copy. So an input's
 * result depends only on the state before it and on the input itself: a batch
 * call, a resumed call and one call per input give the same results, which the
 * fault recovery of runner.ts and validators rely on.
 *
 * Jobs. One host call of a hook (`start`) parses the payload once and keeps it
 * here with the progress made (`job`): results not yet handed over, the next
 * input, and for reduce the state before it (checked JSON text and a fresh
 * object). The host stops a call with a timer; the isolate survives that, so
 * the host asks `status` what was done and which input was running, and
 * `resume` carries on after it instead of redoing the inputs that finished.
 * An input is started only when the call's timer leaves it its whole time
 * budget and fires at most `slack` ms after that budget: so the input the
 * timer stops ran over its budget, and a looping input costs one budget. A
 * call that cannot start its next input that way returns (yields) what it
 * has, and the host re-arms the timer.
 *
 * Wire format (JSON text both ways, measured against ExternalCopy in
 * bench/sandbox.ts):
 *   run(hook, payload, stateJson?) starts a job, with payload =
 *     { b: [block...], s: [state...], d: [data...], x: [ctx.index...],
 *       k: [blockIdx...] | null (all 0), l: [stateIdx...] | null (all 0), g: [signer...] | null (all null),
 *       t: the call's budget in ms (per input), a: [[budgetMs, agreeMs]...] per input in validator mode,
 *       else null, w: slack (ms), hr: 1 if records exist,
 *       v: [[position, verdict text]...] of inputs the host already judged (never run again), or null,
 *       cm: callMs, bl: blockMs, f: force (below) }
 *   and, once per runner, install's config = { o: maxOutputChars, m: the largest reduce state (JSON
 *   characters), rr: most ctx.record reads per input, bm: the block budget verdict's message,
 *   tp + t + ts: the timeout verdict's message }.
 *   callMs: the call's timer; an input starts only if callMs - w <= elapsed + its stop time <= callMs
 *     (its stop time is agreeMs when >= 0, else budgetMs); force: start the first input anyway.
 *   blockMs: block time left; an input not started by then is refused BLOCK_BUDGET without running.
 *   run("resume", callMs, blockMs, force, skip): carries on (skip: the verdict text of the input that
 *     was running when the timer stopped the call, which is not run again; "S": that input runs again
 *     strict, because status said "a":1: it was a fast reduce run that read ctx.state after a change).
 *   run("status"): '{"u":0}' before the job was set up, else
 *     {"u":1,"i":inRun,"n":next,"c":running|-1,"a":0|1 (see resume "S"),"e":its ms so far,"r":[results since the last hand-over],"s":state}.
 *   start and resume return "[r0,r1,...]" (validate, transform) or '{"s":state,"r":[...]}' (reduce),
 *     the results since the last hand-over, where r is 1 (ok), 2 (ok, and the input read ctx.state),
 *     {"x":reason} (a validate or reduce refusal),
 *     {"o":[outputs]} (transform), {"f":code,"m":message,"e":elapsedMs} (fault; code TIMEOUT, THROW,
 *     OUTPUT, BLOCK_BUDGET or RECORD_READS); an object result of a validate or transform input that
 *     read ctx.state carries "q":1 (the host asks again only such inputs once the state changed).
 *   A reduce payload may also carry vf: 1 (each input's validate runs first, on the fold's state before it;
 *     a result it does not accept is the input's, marked "v":1) and vo: [0|1...] (1: validate only, whose
 *     acceptance is 3), so one call folds a block through both hooks.
 *   run("channel", text): ctx.channel from now on ({ name, version, hash, params }, deep-frozen), and
 *     ctx.token (the text's `token`: the token as the block reads it, or null; deep-frozen).
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
const isExtensible = Object.isExtensible;
const defineProperty = Object.defineProperty;
const ownKeys = Reflect.ownKeys;
const getOwnSymbols = Object.getOwnPropertySymbols;
const getOwnDescriptor = Reflect.getOwnPropertyDescriptor;
const reflectConstruct = Reflect.construct;
const apply = Reflect.apply;
const reflectSet = Reflect.set, reflectDelete = Reflect.deleteProperty, reflectDefine = Reflect.defineProperty;
const reflectSetProto = Reflect.setPrototypeOf, reflectPreventExtensions = Reflect.preventExtensions;
const ObjectProto = Object.prototype;
const ArrayProto = Array.prototype;
const StringFn = String;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;
const imul = Math.imul;
const MAX_DEPTH = 64;
/** Longest message or reason, in code points (a clip never cuts a character in half). */
const MAX_MESSAGE = 1000;
/** Record keys are at most 1024 UTF-16 units (runtime/cells MAX_KEY_LENGTH): a longer key names no record. */
const MAX_RECORD_KEY = 1024;

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
const realParse = RealDate.parse;
const realUTC = RealDate.UTC;
const realTimezoneOffset = DateProto.getTimezoneOffset;
const getTime = DateProto.getTime;
const dateToPrimitive = DateProto[Symbol.toPrimitive];
const toPrimitiveKey = Symbol.toPrimitive;
// ECMAScript reads date-time text without an offset ("2024-01-01T10:00") as local time, and V8's
// legacy formats ("2024-01-01 10:00", "Jan 1 2024 10:00", "2024/01/01") too: so the same hook gave
// other results under another TZ. Such text is read as UTC here; text with a zone keeps it.
const ES_FORMAT = /^(?:[+-]\d{6}|\d{4})(?:-\d{2}(?:-\d{2})?)?(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const ISO_SPACE = /^(?:[+-]\d{6}|\d{4})-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;
const ZONE_WORD = /(?:^|[^a-z])(?:z|ut|utc|gmt|[ecmp][sd]t)(?![a-z])/i;
const ZONE_OFFSET = /\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]\.?m\.?)?\s*[+-]\d/i;
const COMMENT = /\([^)]*\)/g;
function parseText(s) {
  const m = ES_FORMAT.exec(s);
  if (m !== null) return m[1] === undefined && s.indexOf("T") >= 0 ? realParse(s + "Z") : realParse(s);
  if (ISO_SPACE.test(s)) return realParse(s.replace(" ", "T") + "Z");
  const bare = s.replace(COMMENT, " ");
  if (ZONE_WORD.test(bare) || ZONE_OFFSET.test(bare)) return realParse(s);
  // A zone-less legacy text: the zone added last wins in V8's parser, so this is the text read as UTC.
  const t = realParse(s + " UTC");
  if (t === t) return t;
  const local = realParse(s);
  return local === local ? local - apply(realTimezoneOffset, new RealDate(local), []) * 60000 : local;
}
/** The time value new Date(v) takes from one argument, with text read by parseText. */
function timeOf(v) {
  if (typeof v === "string") return parseText(v);
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
  try { return apply(getTime, v, []); } catch (_) { /* not a Date: convert it as the Date constructor would */ }
  const own = v[toPrimitiveKey];
  const prim = own === undefined || own === null ? apply(dateToPrimitive, v, ["number"]) : apply(own, v, ["default"]);
  if (prim !== null && (typeof prim === "object" || typeof prim === "function")) throw new TypeErrorCtor("Cannot convert object to primitive value");
  return typeof prim === "string" ? parseText(prim) : prim;
}
function SafeDate(...args) {
  if (new.target === undefined) return new RealDate(blockTime).toISOString();
  if (args.length === 0) return reflectConstruct(RealDate, [blockTime], new.target);
  if (args.length === 1) return reflectConstruct(RealDate, [timeOf(args[0])], new.target);
  return reflectConstruct(RealDate, [realUTC(...args)], new.target);
}
defineProperty(SafeDate, "name", { value: "Date" });
defineProperty(SafeDate, "prototype", { value: DateProto, writable: false });
defineProperty(DateProto, "constructor", { value: SafeDate, writable: true, configurable: true });
SafeDate.now = function now() { return blockTime; };
SafeDate.UTC = realUTC;
SafeDate.parse = function parse(text) { return parseText(StringFn(text)); };
for (const n of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
  defineProperty(DateProto, "get" + n, { value: DateProto["getUTC" + n], writable: true, configurable: true });
  if (n !== "Day") defineProperty(DateProto, "set" + n, { value: DateProto["setUTC" + n], writable: true, configurable: true });
}
const toISOString = DateProto.toISOString;
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

// ---- leaf guards: the built-ins that define properties mark a fast reduce input unsafe when they
// touch a leaf it was handed (see "reduce: the state behind a view"). Installed before the freeze. ----
function guardLeaf(o) {
  const w = watch;
  if (w !== null && markHas(w.leafSet, o)) w.unsafe = true;
}
{
  const defineProp = Object.defineProperty, defineProps = Object.defineProperties, reflectDefineProp = Reflect.defineProperty;
  const defineGetter = ObjectProto.__defineGetter__, defineSetter = ObjectProto.__defineSetter__;
  defineProperty(Object, "defineProperty", { value: function defineProperty(o, k, d) { guardLeaf(o); return defineProp(o, k, d); }, writable: true, configurable: true });
  defineProperty(Object, "defineProperties", { value: function defineProperties(o, ds) { guardLeaf(o); return defineProps(o, ds); }, writable: true, configurable: true });
  defineProperty(Reflect, "defineProperty", { value: function defineProperty(o, k, d) { guardLeaf(o); return reflectDefineProp(o, k, d); }, writable: true, configurable: true });
  defineProperty(ObjectProto, "__defineGetter__", { value: function __defineGetter__(k, f) { guardLeaf(this); return apply(defineGetter, this, [k, f]); }, writable: true, configurable: true });
  defineProperty(ObjectProto, "__defineSetter__", { value: function __defineSetter__(k, f) { guardLeaf(this); return apply(defineSetter, this, [k, f]); }, writable: true, configurable: true });
  // It adds a non-enumerable "stack" property to any object.
  const capture = ErrorCtor.captureStackTrace;
  if (typeof capture === "function") defineProperty(ErrorCtor, "captureStackTrace", { value: function captureStackTrace(o, f) { guardLeaf(o); return apply(capture, ErrorCtor, [o, f]); }, writable: true, configurable: true });
}

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

// ---- checks of what hooks hand back ----
// Our own output errors, recognised without touching the thrown value (a thrown Proxy's traps would run).
const outputErrors = new WeakSet();
/** An output error with a fixed message. */
function outputError(message) { const e = { message, at: null, segs: null }; outputErrors.add(e); return e; }
/**
 * An output error about the value at a path, worded once the path is known: each level of clean
 * adds its key on the way out (building a path per value was most of the cost of the check).
 */
function badAt(at) { const e = { message: "", at, segs: [] }; outputErrors.add(e); return e; }
function isOutputError(e) { return e !== null && typeof e === "object" && outputErrors.has(e); }
function within(e, key) {
  if (isOutputError(e) && e.segs !== null) e.segs.push(StringFn(key));
  return e;
}
function wordOf(e) {
  if (e.at === null) return e.message;
  return e.at(e.segs.length === 0 ? "/" : "/" + e.segs.reverse().join("/"));
}
function describe(v) {
  if (v === null) return "null";
  if (isArray(v)) return "an array";
  const t = typeof v;
  return t === "undefined" ? "undefined" : t === "object" ? "an object" : "a " + t;
}
/** At most MAX_MESSAGE code points of s: a character outside the BMP is kept whole or dropped whole. */
function clip(s) {
  if (s.length <= MAX_MESSAGE) return s;
  let i = 0;
  for (let n = 0; n < MAX_MESSAGE && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return i >= s.length ? s : s.slice(0, i) + "...";
}
/** Display text: clipped, lone surrogates replaced by U+FFFD (canonical JSON carries only well-formed text). */
function shown(s) { return clip(s).toWellFormed(); }
/** Where the first lone surrogate of s is, for messages (never the text itself). */
function loneSurrogate(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { i++; continue; }
    if (c >= 0xd800 && c <= 0xdfff) return "it has a lone surrogate \\u" + c.toString(16) + " at index " + i + " (a character cut in half?)";
  }
  return "it has a lone surrogate";
}
let maxChars = 1 << 20;
/**
 * True while a reduce state is checked: the host stores it, so it must also be what the host's
 * own check of stored values accepts (whole numbers within the exact range, no key constructor or
 * prototype), input by input, or a block's fold and the same inputs in blocks of one would differ.
 */
let stateRules = false;
const MAX_SAFE = 9007199254740991;
function unsafeInteger(v) { return v % 1 === 0 && (v > MAX_SAFE || v < -MAX_SAFE); }
function forbiddenStateKey(k) { return k === "constructor" || k === "prototype"; }
/**
 * A fresh plain-JSON copy of v (each value read once: a getter runs once), or an output error
 * naming the first bad path. -0 becomes 0 as in JSON text, so a state handed on as this copy
 * and one parsed back from its text are the same to the next hook.
 */
function clean(v, depth) {
  switch (typeof v) {
    case "string":
      if (v.isWellFormed()) return v;
      throw badAt((p) => "the string at " + p + " is not well-formed Unicode: " + loneSurrogate(v));
    case "number":
      if (v - v === 0) {
        if (stateRules && unsafeInteger(v)) throw badAt((p) => "the number at " + p + " is " + StringFn(v) + ", a whole number beyond the exact range (+-9007199254740991) that the state can hold");
        return v === 0 ? 0 : v;
      }
      throw badAt((p) => "the value at " + p + " is " + StringFn(v) + ", which JSON cannot carry");
    case "boolean":
      return v;
    case "object":
      break;
    default:
      throw badAt((p) => "the value at " + p + " is " + describe(v) + ", which JSON cannot carry");
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) throw badAt((p) => "the value at " + p + " nests deeper than " + MAX_DEPTH + " levels");
  const proto = getProto(v);
  if (isArray(v)) {
    if (proto !== ArrayProto) throw badAt((p) => "the array at " + p + " is not a plain array");
    const n = v.length;
    if (n > maxChars) throw badAt((p) => "the array at " + p + " has " + n + " items, over the output limit");
    const a = [];
    for (let i = 0; i < n; i++) {
      let x;
      try { x = clean(v[i], depth + 1); } catch (e) { throw within(e, i); }
      a.push(x);
    }
    return a;
  }
  if (proto !== ObjectProto && proto !== null) throw badAt((p) => "the object at " + p + " is not a plain object");
  const o = {};
  const keys = objectKeys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === "__proto__") throw badAt((p) => "the object at " + p + " has a key __proto__, which statecell never stores");
    if (stateRules && forbiddenStateKey(k)) throw badAt((p) => "the object at " + p + " has a key " + k + ", which statecell never stores");
    if (!k.isWellFormed()) throw badAt((p) => "the object at " + p + " has a key that is not well-formed Unicode: " + loneSurrogate(k));
    let x;
    try { x = clean(v[k], depth + 1); } catch (e) { throw within(e, k); }
    o[k] = x;
  }
  return o;
}
function messageOf(e) {
  try {
    if (isOutputError(e)) return shown(wordOf(e));
    if (e instanceof ErrorCtor) {
      const name = StringFn(e.name), msg = StringFn(e.message);
      return shown(name === "Error" ? msg : name + ": " + msg);
    }
    if (typeof e === "string") return shown(e);
    if (e === undefined || typeof e === "symbol" || typeof e === "function") return "the hook threw " + describe(e);
    // JSON text is well-formed even for a lone surrogate (JSON.stringify escapes it as \uXXXX).
    try { const s = jsonStringify(e); if (s !== undefined) return shown(s); } catch (_) { /* fall through */ }
    return shown(StringFn(e));
  } catch (_) {
    return "the hook threw a value that cannot be shown";
  }
}
function fault(code, message, elapsed) { return jsonStringify({ f: code, m: message, e: elapsed }); }
function reasonText(reason) {
  const s = clip(reason);
  if (!s.isWellFormed()) throw outputError("the reason at /reject is not well-formed Unicode: " + loneSurrogate(s));
  return jsonStringify({ x: s });
}
/** A reduce state, checked and copied: clean under the state rules, without a top-level records key. */
function cleanState(v, depth) {
  stateRules = true;
  try {
    const c = clean(v, depth);
    // Records are write-once and filled by record keys only: what a reduce says about them is dropped after every input.
    if (depth === 0 && hasOwn(c, "records")) delete c.records;
    return c;
  } finally {
    stateRules = false;
  }
}
/** A reduce refusal: a returned object whose only key is reject (text). Its reason, or undefined. */
function refusalOf(r) {
  if (isArray(r) || (getProto(r) !== ObjectProto && getProto(r) !== null)) return undefined;
  const keys = objectKeys(r);
  if (keys.length !== 1 || keys[0] !== "reject") return undefined;
  const reason = r.reject;
  return typeof reason === "string" ? reason : undefined;
}
function deepFreezeValue(v) {
  if (v !== null && typeof v === "object" && !isFrozen(v)) {
    for (const k of objectKeys(v)) deepFreezeValue(v[k]);
    freeze(v);
  }
  return v;
}

// ---- ctx.record: one record read through the host, a frozen copy ----
let hostRecord = null;
/** The host's JSON text of a job input's data: a reduce input run again gets it fresh (its first run may have changed it). */
let hostData = null;
let hasRecords = false;
let maxReads = 0;
let reads = 0;
let readsOver = false;
/** The running input's position in the job: the host answers "as of that input". */
let current = 0;
const record = function record(key) {
  if (typeof key !== "string") throw new TypeErrorCtor("ctx.record(key) takes a string key, got " + describe(key));
  if (reads >= maxReads) {
    // Sticky: the input faults RECORD_READS even if the hook catches this.
    readsOver = true;
    throw new RangeErrorCtor("ctx.record was called more than " + maxReads + " times for one input");
  }
  reads++;
  if (!hasRecords || key.length > MAX_RECORD_KEY || !key.isWellFormed()) return undefined;
  const text = hostRecord(key, current);
  return text === undefined ? undefined : deepFreezeValue(jsonParse(text));
};

// ---- ctx.state and ctx.channel ----
/**
 * True once the running validate or transform input read ctx.state: its result is marked ("2" for
 * ok, "q":1 in an object) so the host knows it depends on the state, and asks again only such
 * inputs after an earlier input of the block changed the state.
 */
let stateRead = false;
/** A reduce input's ctx.state: the state before it, deep-frozen, made on first read. */
let ctxState = undefined, ctxStateMade = false, reduceJob = null, reduceStrict = false;
/** True while a reduce job's validate runs (payload vf): nothing changed the state yet. */
let validating = false;
/** Set when a fast reduce input read ctx.state after changing the state: it runs again strict. */
let stateAbort = false;
const abortRun = outputError("ctx.state was read after the state was changed; the input runs again on a fresh copy");
/** ctx.channel: { name, version, hash, params }, parsed and deep-frozen once per runner (run("channel", text)). */
let channelInfo = null;
/** ctx.token: the channel's token as the block reads it ({ balances, supply, ... }), or null; deep-frozen. */
let tokenInfo = null;
function reduceCtxState() {
  if (ctxStateMade) return ctxState;
  let text;
  if (reduceStrict) text = strictSnapBefore;
  else if (validating) text = jsonStringify(reduceJob.live);
  else {
    // The live state is the state before the input only until the input changes it (or holds a leaf it may change).
    const w = watch;
    if (w === null || w.unsafe || w.dirty || w.leaves.length > 0 || w.written.length > 0 || w.arrays.length > 0) {
      if (w !== null) w.unsafe = true;
      stateAbort = true;
      throw abortRun;
    }
    text = jsonStringify(reduceJob.live);
  }
  ctxState = deepFreezeValue(jsonParse(text));
  ctxStateMade = true;
  return ctxState;
}

/**
 * A hook's ctx. Classes, not object literals with a getter: a literal with an accessor is built on
 * V8's slow path for every input, which tripled the cost of a batched call. The state sits in a
 * private field, so a hook can reach it only through the getter that notes the read.
 */
class HookCtx {
  #st;
  constructor(block, signer, index, st) { this.block = block; this.signer = signer; this.index = index; this.#st = st; this.channel = channelInfo; this.token = tokenInfo; this.random = random; this.record = record; }
  get state() { stateRead = true; return this.#st; }
}
class ReduceCtx {
  constructor(block, signer, index) { this.block = block; this.signer = signer; this.index = index; this.channel = channelInfo; this.token = tokenInfo; this.random = random; this.record = record; }
  get state() { return reduceCtxState(); }
}
freeze(HookCtx.prototype); freeze(HookCtx); freeze(ReduceCtx.prototype); freeze(ReduceCtx);

let factory = null;
function begin(block, index, position) {
  stateRead = false;
  ctxStateMade = false;
  ctxState = undefined;
  stateAbort = false;
  blockTime = block.time;
  seedHash = block.hash;
  seedIndex = index;
  stream = null;
  current = position;
  reads = 0;
  readsOver = false;
}

// ---- reduce: the state behind a view that watches writes ----
// Every input must see the state as a fresh parse of the text the input before it left (so its
// verdict depends only on that state and itself, whatever its neighbours did). Copying and checking
// the whole state per input made reduce ~40x slower with 50 totals, so the fold keeps one live state
// ("fast" inputs) behind proxies that watch every write: an input whose writes keep the state plain
// JSON is the same as that fresh parse to the next hook (same values, key order, attributes, no
// shared objects: objects it stored are replaced by checked copies when it ends). Anything else (a
// fault, an impure or structural write, a timer stop) rewinds to the last checkpoint (a JSON text)
// and runs that input "strict": on a parse of the text, its result checked and copied. Small objects
// of plain values ("leaves", like { count, sum }) are handed out as they are, not through a view (a
// trap costs ~100 ns, and most writes land in leaves), and checked when the input ends. Only hook
// code of the running input can reach state objects: globals are frozen, a hook's top level is new
// per input, and microtasks run only after the call returns, so every call that resumes a job
// rebuilds the state from the checkpoint's text.
const hasOwn = Object.hasOwn;

const ProxyCtor = Proxy;
const SetCtor = Set;
const MapCtor = Map;
/** raw state object -> { proxy, depth }; the proxies. */
const viewOf = new WeakMap();
const isView = new WeakSet();
/** What the running fast input wrote (null outside one). */
let watch = null;
/**
 * An identity set of the few objects one input hands out or stores: a list while short, a Set past
 * MARK_LIST. Sets were cleared after every input, and Set.prototype.clear allocates a new table
 * each time: about a sixth of the fold's time in the districts cell of bench/code-cell.ts, and most
 * of its garbage.
 */
const MARK_LIST = 8;
function markSet() { return { list: [], n: 0, set: null }; }
function markAdd(m, v) {
  if (m.set !== null) { m.set.add(v); m.n++; return; }
  m.list[m.n++] = v;
  if (m.n > MARK_LIST) { m.set = new SetCtor(); for (let i = 0; i < m.n; i++) m.set.add(m.list[i]); }
}
function markHas(m, v) {
  const n = m.n;
  if (n === 0) return false;
  if (m.set !== null) return m.set.has(v);
  const l = m.list;
  for (let i = 0; i < n; i++) if (l[i] === v) return true;
  return false;
}
function markClear(m) {
  const n = m.n;
  if (n === 0) return;
  // Only the list's first slots were ever filled; emptied so the set keeps no state object alive.
  const l = m.list;
  for (let i = 0; i < n && i <= MARK_LIST; i++) l[i] = undefined;
  m.n = 0;
  m.set = null;
}
const watched = { unsafe: false, dirty: false, written: [], writtenSet: markSet(), arrays: [], leaves: [], leafSet: markSet(), grow: 0 };
/** Most keys of a leaf (checking one costs a look at each of its properties). */
const LEAF_KEYS = 16;
function isLeaf(v) {
  let n = 0;
  for (const k in v) {
    if (++n > LEAF_KEYS) return false;
    const x = v[k];
    if (x !== null && typeof x === "object") return false;
  }
  return true;
}
function isIndex(k) { const n = +k; return n >>> 0 === n && n !== 4294967295 && StringFn(n) === k; }
function wrap(raw, depth) {
  let v = viewOf.get(raw);
  if (v === undefined) {
    const proxy = new ProxyCtor(raw, viewHandler);
    v = { proxy, depth };
    viewOf.set(raw, v);
    isView.add(proxy);
  }
  return v.proxy;
}
/**
 * A value read from a state object: its objects are seen through views, except those written in
 * this input and leaves (handed out as they are during an input, and checked when it ends).
 */
function viewed(t, k, v) {
  if (v === null || typeof v !== "object") return v;
  // Most reads: a state object already seen (only state objects are keys of viewOf).
  const known = viewOf.get(v);
  if (known !== undefined) return known.proxy;
  if (isView.has(v) || !hasOwn(t, k)) return v;
  const w = watch;
  if (w !== null) {
    if (markHas(w.writtenSet, v) || markHas(w.leafSet, v)) return v;
    if (isLeaf(v)) {
      // With where it was found: a leaf the input replaced there has left the state (settleFast).
      w.leaves.push(v, viewOf.get(t).depth + 1, t, k);
      markAdd(w.leafSet, v);
      return v;
    }
  }
  return wrap(v, viewOf.get(t).depth + 1);
}
/** Upper bound of the JSON characters a key and value add (escapes take at most 6 per unit). */
function noteWrite(w, t, k, v) {
  w.dirty = true;
  if (typeof k !== "string" || k === "__proto__" || forbiddenStateKey(k) || !k.isWellFormed()) { w.unsafe = true; return; }
  // A top-level records key is dropped after the input: the strict run does that.
  if (k === "records" && viewOf.get(t).depth === 0) { w.unsafe = true; return; }
  if (isArray(t)) {
    if (k !== "length" && !isIndex(k)) { w.unsafe = true; return; }
    w.arrays.push(t);
  }
  if (v !== null && typeof v === "object") {
    w.written.push(t, k, v);
    if (!isView.has(v)) markAdd(w.writtenSet, v);
    return;
  }
  const b = scalarBound(v);
  if (b < 0) w.unsafe = true;
  else w.grow += keyBound(k) + b;
}
function untrusted() { if (watch !== null) watch.unsafe = true; }
const viewHandler = {
  // A plain read: state objects have data properties only (an accessor makes the input unsafe).
  get(t, k) {
    const v = t[k];
    if (v === null || typeof v !== "object") return v;
    const known = viewOf.get(v);
    return known !== undefined ? known.proxy : viewed(t, k, v);
  },
  getOwnPropertyDescriptor(t, k) {
    const d = getOwnDescriptor(t, k);
    if (d !== undefined && "value" in d) d.value = viewed(t, k, d.value);
    return d;
  },
  set(t, k, v, receiver) {
    // A view used as the prototype of the receiver: the write lands on the receiver, not in the state.
    if (receiver !== viewOf.get(t).proxy) return reflectSet(t, k, v, receiver);
    if (watch !== null) noteWrite(watch, t, k, v);
    // A plain store: state objects are writable and extensible unless a write already made the
    // input unsafe (then a throw here only changes a run that is done again strict).
    t[k] = v;
    return true;
  },
  deleteProperty(t, k) {
    if (watch !== null) watch.dirty = true;
    if (watch !== null && isArray(t)) watch.arrays.push(t);
    return reflectDelete(t, k);
  },
  defineProperty(t, k, d) { untrusted(); return reflectDefine(t, k, d); },
  setPrototypeOf(t, proto) { untrusted(); return reflectSetProto(t, proto); },
  preventExtensions(t) { untrusted(); return reflectPreventExtensions(t); },
};

/**
 * After a fast input returned r: true if the live state is now what a strict run leaves (then
 * committed), false if the input must be run strict (nothing committed; the caller rewinds).
 */
function settleFast(j, w, r, root, p) {
  if (w.unsafe) return false;
  const leaves = w.leaves;
  for (let q = 0; q < leaves.length; q += 4) {
    // A leaf no longer where it was found (replaced, as by state[k] = { ...new }) has left the
    // state: any other place the input put it is a write through a view, into an object it
    // wrote, or into a leaf, and each of those is replaced below by a checked copy.
    if (leaves[q + 2][leaves[q + 3]] !== leaves[q]) continue;
    if (!settleLeaf(w, leaves[q], leaves[q + 1])) return false;
  }
  if (w.written.length === 0 && w.arrays.length === 0 && r === root) {
    // The common case: only plain values written in place.
    if (j.ck.snap.length + j.grow + w.grow > p.m) return false;
    j.grow += w.grow;
    return true;
  }
  const written = w.written;
  for (let q = 0; q < written.length; q += 3) {
    const t = written[q], k = written[q + 1], v = written[q + 2];
    if (!hasOwn(t, k) || t[k] !== v) continue;
    let c;
    try { c = cleanState(v, viewOf.get(t).depth + 1); } catch (_) { return false; }
    t[k] = c;
    w.grow += keyBound(k) + jsonBound(c);
  }
  for (let q = 0; q < w.arrays.length; q++) {
    const a = w.arrays[q], n = a.length;
    if (objectKeys(a).length !== n) return false;
    for (let x = 0; x < n; x++) if (!hasOwn(a, x)) return false;
  }
  if (r !== root) {
    // A new state object (or part of the old one): its checked copy, whose text is a checkpoint.
    let c;
    try { c = cleanState(r, 0); } catch (_) { return false; }
    const s = jsonStringify(c);
    if (s.length > p.m) return false;
    j.live = c;
    j.nextCk = s;
    return true;
  }
  if (j.ck.snap.length + j.grow + w.grow > p.m) return false;
  j.grow += w.grow;
  return true;
}

/**
 * At least the length of jsonStringify(v), for a value cleanState returned, without writing it out:
 * a fast input's growth is an upper bound anyway (an input whose bound passes the state limit runs
 * strict, which measures the state exactly, so the bound moves only which inputs run strict, never
 * a result), and writing out each object a reduce stores was a tenth of a fold's time per input
 * (bench/code-cell.ts). Exact but for numbers (24, the longest a number's text can be) and text
 * with characters JSON escapes (6 per unit). The one bound of a value's size: noteWrite and
 * settleLeaf count values with it too, and with keyBound their keys.
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
/** Short text (keys, most values) is looked at here: a regular expression test cost more than the loop. */
const SHORT_TEXT = 32;
function textBound(s) {
  const n = s.length;
  if (n > SHORT_TEXT) return NEEDS_ESCAPE.test(s) ? 6 * n + 2 : n + 2;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92) return 6 * n + 2;
  }
  return n + 2;
}
/**
 * The bound of a value that is not an object (24 for a number: the longest a number's text can
 * be), or -1 when the state cannot hold it as it is: not finite, -0, a whole number past the exact
 * range, text with a lone surrogate, or no JSON value at all. The input then runs strict, which
 * says why.
 */
function scalarBound(v) {
  if (v === null) return 4;
  switch (typeof v) {
    case "number": return v - v !== 0 || (v === 0 && 1 / v < 0) || unsafeInteger(v) ? -1 : 24;
    case "string": return v.isWellFormed() ? textBound(v) : -1;
    case "boolean": return 5;
    default: return -1;
  }
}
/** A key's part of an object entry: its text, the colon, and the comma before the next entry. */
function keyBound(k) { return textBound(k) + 2; }
function jsonBound(v) {
  // Text of a checked value is well-formed already: not looked at again.
  if (typeof v === "string") return textBound(v);
  if (v === null || typeof v !== "object") return scalarBound(v);
  let n = 2;
  if (isArray(v)) { for (let i = 0; i < v.length; i++) n += jsonBound(v[i]) + 1; return n; }
  const keys = objectKeys(v);
  for (let i = 0; i < keys.length; i++) { const k = keys[i]; n += keyBound(k) + jsonBound(v[k]); }
  return n;
}

/**
 * A leaf the input was handed (at depth d): still a plain, extensible object or dense array of
 * enumerable string-keyed properties with JSON values; objects the hook put in it are replaced by
 * checked copies. Its whole size counts as growth (an upper bound: what changed in it is not known).
 */
function settleLeaf(w, leaf, d) {
  const arr = isArray(leaf);
  if (getProto(leaf) !== (arr ? ArrayProto : ObjectProto) || !isExtensible(leaf) || getOwnSymbols(leaf).length > 0) return false;
  let n = 0;
  // for-in: own enumerable string keys here (the prototype is a frozen intrinsic without enumerable
  // keys); a non-enumerable property needs a defining built-in (guarded).
  for (const k in leaf) {
    if (arr ? k !== StringFn(n) : !k.isWellFormed() || forbiddenStateKey(k)) return false;
    n++;
    // Data properties: an accessor or a read-only property needs a defining built-in, and those
    // mark the input unsafe when they touch a leaf ("leaf guards" below).
    const x = leaf[k];
    let b;
    if (x !== null && typeof x === "object") {
      let c;
      try { c = cleanState(x, d + 1); } catch (_) { return false; }
      leaf[k] = c;
      b = jsonBound(c);
    } else if ((b = scalarBound(x)) < 0) return false;
    w.grow += keyBound(k) + b;
  }
  return !arr || n === leaf.length;
}

/** Judges input "at" of the job without running it (again): its verdict text. */
function skip(j, at, text) {
  if (j.skips === null) j.skips = new MapCtor();
  j.skips.set(at, text);
}

/** Back to the last checkpoint: the results after it are recomputed, the live state parsed from its text. */
function rewind(j) {
  const ck = j.ck;
  j.out.length = ck.n - j.base;
  j.cur = { n: ck.n };
  j.live = jsonParse(ck.snap);
  j.grow = 0;
  j.nextCk = null;
}

/** A checkpoint at the current input: the live state's text. */
function checkpoint(j) {
  if (j.ck.n === j.cur.n) return;
  j.ck = { n: j.cur.n, snap: jsonStringify(j.live) };
  j.grow = 0;
}

// ---- jobs (see the module doc): one host call's inputs and the progress made ----
let job = null;
/** True while start or resume runs; false once it returned (microtasks may still run). */
let inRun = false;
/** What a strict reduce input leaves for the loop to commit: the state before it and after it. */
let strictLive = null, strictSnap = null, strictSnapBefore = null;

/** What does not change between calls of one runner (install's config): limits and verdict texts. */
let config = null;

function start(hook, payloadJson, stateJson) {
  inRun = true;
  job = null;
  watch = null;
  const entry = realNow();
  const p = jsonParse(payloadJson);
  p.o = config.o;
  p.m = config.m;
  p.rr = config.rr;
  p.bm = config.bm;
  p.tm = config.tp + p.t + config.ts;
  const callMs = p.cm, blockMs = p.bl, force = p.f;
  for (const b of p.b) deepFreezeValue(b);
  for (const s of p.s) deepFreezeValue(s);
  const reduce = hook === "reduce";
  // cur is replaced or its n bumped in one store: a timer stop never tears it.
  job = { hook, p, n: p.d.length, out: [], base: 0, running: -1, t0: 0, cur: { n: 0 },
    live: reduce ? jsonParse(stateJson) : null, ck: { n: 0, snap: reduce ? stateJson : null }, grow: 0,
    nextCk: null, strictAt: -1, skips: null, block: undefined, ranTo: -1, root: null, rootOf: null };
  // Verdicts the host already gave inputs of this job (the timer stopped them in an earlier job).
  if (p.v !== null) for (const [at, text] of p.v) skip(job, at, text);
  return loop(job, entry, callMs, blockMs, force);
}

function resume(callMs, blockMs, force, skipText) {
  inRun = true;
  watch = null;
  const entry = realNow();
  const j = job;
  if (skipText === "S") {
    // The input was stopped in a fast run that had read ctx.state after changing the state: it runs strict instead.
    j.strictAt = j.cur.n;
    j.running = -1;
  } else if (skipText !== "") {
    // The input that was running when the timer stopped the call: the host's verdict goes in its place.
    skip(j, j.cur.n, skipText);
    j.running = -1;
  }
  // Microtasks may have run since the last call (with leaves or views of the live state in hand):
  // go on from the checkpoint's text.
  if (j.hook === "reduce") rewind(j);
  return loop(j, entry, callMs, blockMs, force);
}

function status() {
  watch = null;
  const j = job;
  if (j === null) return '{"u":0}';
  const c = j.cur;
  // Results after the last checkpoint are handed over only with a state they belong to.
  const upTo = j.hook === "reduce" ? j.ck.n : c.n;
  const done = j.out.slice(0, upTo - j.base);
  const running = j.running === c.n ? c.n : -1;
  // A fast reduce run that read ctx.state after changing the state is not the input's run: it is done again strict.
  const aborted = running >= 0 && j.hook === "reduce" && stateAbort && j.strictAt !== running ? 1 : 0;
  const text = '{"u":1,"i":' + (inRun ? 1 : 0) + ',"n":' + upTo + ',"c":' + running + ',"a":' + aborted + ',"e":' + (running >= 0 ? realNow() - j.t0 : 0) +
    ',"r":[' + done.join(",") + "]" + (j.hook === "reduce" ? ',"s":' + j.ck.snap : "") + "}";
  j.out = j.out.slice(upTo - j.base);
  j.base = upTo;
  inRun = false;
  return text;
}

function loop(j, entry, callMs, blockMs, force) {
  const p = j.p, hook = j.hook, n = j.n, times = p.a, slack = p.w, reduce = hook === "reduce";
  hasRecords = p.hr === 1;
  maxReads = p.rr;
  let count = 0;
  let now = realNow() - entry;
  while (j.cur.n < n) {
    const i = j.cur.n;
    if (j.skips !== null && j.skips.has(i)) {
      // Judged already (kept for the whole job: a rewind may pass here again). Not run: the state
      // stays as before it, and a checkpoint after it spares later rewinds the inputs before it.
      j.out.push(j.skips.get(i));
      j.cur.n = i + 1;
      if (reduce) checkpoint(j);
      continue;
    }
    if (now >= blockMs) {
      // The block's time is spent: every input not started is refused without running.
      if (j.block === undefined) j.block = fault("BLOCK_BUDGET", p.bm, 0);
      for (let k = i; k < n; k++) j.out.push(j.block);
      j.cur = { n };
      break;
    }
    const budget = times === null ? p.t : times[i][0];
    const agree = times === null ? -1 : times[i][1];
    const stop = agree >= 0 ? agree : budget;
    if (!(force === 1 && count === 0) && (now + stop > callMs || now + stop < callMs - slack)) break;
    const strict = reduce && i === j.strictAt;
    const t0 = realNow();
    j.t0 = t0;
    j.running = i;
    let res = runInput(j, i, hook, p, strict);
    const t1 = realNow();
    const elapsed = t1 - t0;
    count++;
    now = t1 - entry;
    // One message for every timeout (the cell's budget): a validator's verdict must be byte-identical to the proposer's.
    const over = elapsed > budget || (agree >= 0 && elapsed >= agree);
    if (reduce && !strict) {
      // An input that read ctx.state after changing the state is run strict, whatever its time.
      if (over && !stateAbort) {
        skip(j, i, fault("TIMEOUT", p.tm, elapsed));
        j.running = -1;
        rewind(j);
      } else if (res === null) {
        j.strictAt = i;
        j.running = -1;
        rewind(j);
      } else {
        j.out.push(res);
        j.cur.n = i + 1;
        j.running = -1;
        if (j.nextCk !== null) { j.ck = { n: i + 1, snap: j.nextCk }; j.grow = 0; j.nextCk = null; }
      }
      continue;
    }
    if (over) res = fault("TIMEOUT", p.tm, elapsed);
    j.out.push(res);
    if (reduce) {
      const ok = res === "1";
      if (ok) j.live = strictLive;
      j.cur.n = i + 1;
      j.ck = { n: i + 1, snap: ok ? strictSnap : strictSnapBefore };
      j.grow = 0;
      j.strictAt = -1;
      strictLive = strictSnap = strictSnapBefore = null;
    } else j.cur.n = i + 1;
    j.running = -1;
  }
  if (reduce) checkpoint(j);
  const list = "[" + j.out.join(",") + "]";
  const text = reduce ? '{"s":' + j.ck.snap + ',"r":' + list + "}" : list;
  // inRun first: a stop between these lines then looks like a stop after returning (the host re-runs), never like lost results.
  inRun = false;
  j.out = [];
  j.base = j.cur.n;
  return text;
}
/**
 * Runs the hook on input i of the job; returns its result text. A fast reduce input returns null
 * when it must be run strict instead; a strict one leaves its state in strictLive/strictSnap.
 */
/** What validate returned, as result text ("1" or a refusal); throws what the hook threw or an output error. */
function validateResult(fn, data, ctx, p) {
  maxChars = p.o;
  const r = fn(data, ctx);
  if (r === true) return "1";
  if (r === false) return '{"x":"rejected by the validate hook"}';
  if (r !== null && typeof r === "object" && !isArray(r)) {
    if (typeof r.then === "function") throw outputError("validate returned a promise; hooks must be synchronous (no async function)");
    const reason = r.reject;
    if (typeof reason !== "string") throw outputError("validate must return true or { reject: \"reason\" }, got " + describe(r));
    return reasonText(reason);
  }
  throw outputError("validate must return true or { reject: \"reason\" }, got " + describe(r));
}

/**
 * A copy of an input's data (parsed JSON: plain objects, arrays and scalars), the same as a parse
 * of its text: keys in the same order, no object shared. Copied here rather than written out and
 * parsed again, which was a fifth of a fold's time per input with validate and a one-line reduce
 * (bench/code-cell.ts). An own "__proto__" key (which an assignment would not create) goes the
 * long way.
 */
function copyData(v) {
  if (v === null || typeof v !== "object") return v;
  if (isArray(v)) { const a = []; for (let i = 0; i < v.length; i++) a.push(copyData(v[i])); return a; }
  const o = {};
  const keys = objectKeys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === "__proto__") return jsonParse(jsonStringify(v));
    o[k] = copyData(v[k]);
  }
  return o;
}

/**
 * A reduce job with validate first (payload vf: 1): input i's validate, against the fold's state
 * before it and on its own copy of the data. "1" when it accepts; else its result text.
 */
function foldValidate(data, ctx, p) {
  validating = true;
  let res;
  try {
    const fn = factory().validate;
    if (typeof fn !== "function") throw new ErrorCtor("the hook validate is not defined");
    res = validateResult(fn, copyData(data), ctx, p);
  } catch (e) {
    res = fault(isOutputError(e) ? "OUTPUT" : "THROW", messageOf(e), 0);
  } finally {
    validating = false;
  }
  if (readsOver) res = fault("RECORD_READS", "the hook called ctx.record more than " + maxReads + " times for this input", 0);
  return res;
}

function runInput(j, i, hook, p, strict) {
  const data = i <= j.ranTo ? jsonParse(hostData(i)) : p.d[i];
  if (i > j.ranTo) j.ranTo = i;
  const index = p.x[i];
  const block = p.b[p.k === null ? 0 : p.k[i]];
  const signer = p.g === null ? null : p.g[i];
  begin(block, index, i);
  let ctx;
  if (hook === "reduce") {
    reduceJob = j;
    reduceStrict = strict;
    // With validate first, one ctx for both hooks of the input: it is frozen and holds nothing of
    // its own (its state getter reads what the fold holds, the record and random functions are
    // shared, and begin() resets what they keep), so validate can leave nothing in it for reduce.
    ctx = freeze(new ReduceCtx(block, signer, index));
    if (p.vf === 1) {
      if (strict) strictSnapBefore = j.ck.n === i ? j.ck.snap : jsonStringify(j.live);
      const v = foldValidate(data, ctx, p);
      // Marked "v": the verdict is validate's (the host orders it before the record key); 3: validate only, and it accepted.
      if (v !== "1") return '{"v":1,' + v.slice(1);
      if (p.vo != null && p.vo[i] === 1) return "3";
      // reduce starts as a call of its own would: its own random stream and record reads.
      begin(block, index, i);
    }
  } else {
    const st = p.s[p.l === null ? 0 : p.l[i]];
    ctx = freeze(new HookCtx(block, signer, index, st));
  }
  if (hook === "reduce" && !strict) return fastReduce(j, data, ctx, p);
  // The live state is plain JSON here (every fast input before kept it so): its text is the checkpoint.
  if (hook === "reduce" && p.vf !== 1) strictSnapBefore = j.ck.n === i ? j.ck.snap : jsonStringify(j.live);
  let res;
  try {
    const fn = factory()[hook];
    if (typeof fn !== "function") throw new ErrorCtor("the hook " + hook + " is not defined");
    if (hook === "validate") res = validateResult(fn, data, ctx, p);
    else if (hook === "transform") {
      maxChars = p.o;
      const r = fn(data, ctx);
      if (r === undefined) throw outputError("transform returned undefined; return an output, an array of outputs, or null for none");
      if (r !== null && typeof r.then === "function") throw outputError("transform returned a promise; hooks must be synchronous");
      const list = r === null ? [] : isArray(r) ? r : [r];
      const parts = [];
      let size = 0;
      for (let k = 0; k < list.length; k++) {
        let c;
        try { c = clean(list[k], 1); } catch (e) { throw within(e, k); }
        const s = jsonStringify(c);
        size += s.length + 1;
        if (size > p.o) throw outputError("the outputs take over " + p.o + " characters of JSON");
        parts.push(s);
      }
      res = '{"o":[' + parts.join(",") + "]}";
    } else {
      maxChars = p.m;
      const r = fn(jsonParse(strictSnapBefore), data, ctx);
      if (r === null || typeof r !== "object" || isArray(r)) throw outputError("reduce must return the state object, got " + describe(r));
      if (typeof r.then === "function") throw outputError("reduce returned a promise; hooks must be synchronous");
      const reason = refusalOf(r);
      if (reason !== undefined) res = reasonText(reason);
      else {
        const c = cleanState(r, 0);
        const s = jsonStringify(c);
        if (s.length > p.m) throw outputError("the state takes " + s.length + " characters of JSON, over the limit of " + p.m);
        strictLive = c;
        strictSnap = s;
        res = "1";
      }
    }
  } catch (e) {
    res = fault(isOutputError(e) ? "OUTPUT" : "THROW", messageOf(e), 0);
  }
  if (readsOver) res = fault("RECORD_READS", "the hook called ctx.record more than " + maxReads + " times for this input", 0);
  if (stateRead) res = res === "1" ? "2" : '{"q":1,' + res.slice(1);
  return res;
}

/** A fast reduce input (see "reduce: the state behind a view"): "1", or null to run it strict. */
function fastReduce(j, data, ctx, p) {
  maxChars = p.m;
  const w = watched;
  w.unsafe = false;
  w.dirty = false;
  if (w.written.length > 0) w.written.length = 0;
  markClear(w.writtenSet);
  if (w.arrays.length > 0) w.arrays.length = 0;
  if (w.leaves.length > 0) { w.leaves.length = 0; markClear(w.leafSet); }
  w.grow = 0;
  const live = j.live;
  if (j.rootOf !== live) { j.root = wrap(live, 0); j.rootOf = live; }
  const root = j.root;
  let r;
  watch = w;
  try {
    const fn = factory().reduce;
    if (typeof fn !== "function") { watch = null; return null; }
    r = fn(root, data, ctx);
  } catch (_) {
    watch = null;
    return null;
  }
  watch = null;
  if (readsOver || r === null || typeof r !== "object") return null;
  // The state's own view cannot be a promise unless a write made the input unsafe.
  if (r !== root) {
    if (isArray(r)) return null;
    try { if (typeof r.then === "function") return null; } catch (_) { return null; }
    let reason;
    try { reason = refusalOf(r); } catch (_) { return null; }
    if (reason !== undefined) {
      // A refusal leaves the state as it was: only an input that changed nothing can refuse here.
      if (w.unsafe || w.dirty || w.leaves.length > 0 || w.written.length > 0 || w.arrays.length > 0) return null;
      try { return reasonText(reason); } catch (_) { return null; }
    }
  }
  return settleFast(j, w, r, root, p) ? "1" : null;
}

function probe() {
  begin({ height: 0, time: 0, hash: "" }, 0, 0);
  const h = factory();
  const names = [];
  for (const n of ["validate", "transform", "reduce"]) if (typeof h[n] === "function") names.push(n);
  return jsonStringify(names);
}

return function install(f, readRecord, readData, configJson) {
  if (factory !== null) throw new ErrorCtor("already installed");
  // The factory is reachable from author code (its name, arguments.callee):
  // frozen, it cannot carry a property from one input to the next.
  deepFreeze(f);
  factory = f;
  hostRecord = readRecord;
  hostData = readData;
  config = jsonParse(configJson);
  // Arguments cost: every one is copied across (four more made a one-input call ~25% slower).
  return function statecellRun(op, a, b, c, d) {
    if (op === "resume") return resume(a, b, c, d);
    if (op === "status") return status();
    if (op === "probe") return probe();
    if (op === "channel") {
      const c = jsonParse(a);
      tokenInfo = deepFreezeValue(c.token === undefined ? null : c.token);
      channelInfo = deepFreezeValue({ name: c.name, version: c.version, hash: c.hash, params: c.params });
      return "1";
    }
    return start(op, a, b);
  };
};
})()`;
