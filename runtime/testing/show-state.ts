/**
 * States as `statecell test --state` prints them: readable, and still
 * unambiguous. A signer's public key (64 hex characters, as a key or a value,
 * whole or inside a longer text such as the record key `<key>/0`) is shown as
 * `$key:NAME`, the way tests write it; any other long run of hex digits is cut
 * to its first digits and `…`, and any other long key to its head, `…` and its
 * tail. Siblings never look alike: keys of one object whose shortened forms
 * would collide keep more of their text, up to all of it.
 */
import type { Json } from "../core/canonical.js";

/** Keys up to this length are shown whole (a record key `cen-1@1700000000000` is 19). */
const SHORT_KEY = 24;
/** Hex runs at least this long are cut (a sha256 or a public key is 64; a block time is 13 digits). */
const HEX_RUN = 16;
const HEX_RUNS = new RegExp(`[0-9a-f]{${HEX_RUN},}`, "g");
/** Hex digits kept of a cut run at first; collisions keep more. */
const FIRST_KEEP = 8;
/** Characters kept at the end of a long key cut in its middle. */
const TAIL = 8;

/** `value` with signer keys shown as `$key:NAME` and long object keys shortened (siblings stay distinct). */
export function shortenForDisplay(value: Json, signers: Readonly<Record<string, string>> = {}): Json {
  const names = new Map<string, string>();
  for (const [name, key] of Object.entries(signers)) if (!names.has(key)) names.set(key, name);
  return walk(value, names);
}

function walk(v: Json, names: ReadonlyMap<string, string>): Json {
  if (typeof v === "string") return withNames(v, names);
  if (Array.isArray(v)) return v.map((x) => walk(x, names));
  if (v === null || typeof v !== "object") return v;
  const keys = Object.keys(v);
  let shown = distinctForms(keys.map((k) => withNames(k, names)));
  // Two keys that read alike once named (a literal "$key:alice" beside alice's key): show every key as it is.
  if (new Set(shown).size !== shown.length) shown = keys;
  const out: Record<string, Json> = {};
  keys.forEach((k, i) => {
    // defineProperty: a "__proto__" key in a state must stay a key.
    Object.defineProperty(out, shown[i], { value: walk(v[k], names), enumerable: true, writable: true, configurable: true });
  });
  return out;
}

/** Every 64-hex run that is a known signer's key, as `$key:NAME`. */
function withNames(s: string, names: ReadonlyMap<string, string>): string {
  if (names.size === 0 || s.length < 64) return s;
  return s.replace(/[0-9a-f]{64}/g, (hex) => {
    const name = names.get(hex);
    return name === undefined ? hex : `$key:${name}`;
  });
}

/**
 * The shortened forms of sibling keys `keys` (already with signer names),
 * distinct from each other: each key starts at FIRST_KEEP kept characters and
 * keeps twice as many at each round in which its form is shared, until it is
 * whole (doubling: two 60,000-character keys that differ at their end settle
 * in 13 rounds, where a fixed step would take thousands).
 */
function distinctForms(keys: readonly string[]): string[] {
  const keep = keys.map(() => FIRST_KEEP);
  const forms = keys.map((k, i) => shortKey(k, keep[i]));
  for (;;) {
    const byForm = new Map<string, number[]>();
    forms.forEach((f, i) => {
      const group = byForm.get(f);
      if (group) group.push(i);
      else byForm.set(f, [i]);
    });
    let changed = false;
    for (const group of byForm.values()) {
      if (group.length < 2) continue;
      for (const i of group) {
        if (forms[i] === keys[i]) continue;
        keep[i] *= 2;
        forms[i] = shortKey(keys[i], keep[i]);
        changed = true;
      }
    }
    if (!changed) return forms;
  }
}

/**
 * One key, shortened keeping `keep` characters of each cut part; the key
 * itself when it is short, has `$key:` names only, or would not get shorter.
 */
export function shortKey(key: string, keep: number): string {
  if (key.length <= SHORT_KEY) return key;
  let s = key.replace(HEX_RUNS, (run) => (run.length > keep + 1 ? `${run.slice(0, keep)}…` : run));
  const points = [...s];
  if (points.length > SHORT_KEY * 2) {
    // Cut between code points, never inside a surrogate pair.
    const head = Math.max(SHORT_KEY, keep);
    if (head + TAIL + 1 < points.length) s = `${points.slice(0, head).join("")}…${points.slice(-TAIL).join("")}`;
  }
  return s.length < key.length ? s : key;
}
