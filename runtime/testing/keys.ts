/**
 * Test identities. A signer named in a test gets `keyPairFromName(name)`, so
 * the same name is the same key in every run, on every machine; tests write
 * `"$key:alice"` wherever alice's public key appears in data or expectations.
 */
import type { Json } from "../core/canonical.js";
import { keyPairFromName, type KeyPair } from "../core/keys.js";

/** A whole string `$key:NAME` (names may contain `.`). */
const KEY_REF = /^\$key:([A-Za-z0-9][A-Za-z0-9_.-]*)$/;
/** `$key:NAME` inside a longer string (`"$key:alice/0"`, a composed record key); no `.` so a separator ends the name. */
const KEY_REF_INSIDE = /\$key:([A-Za-z0-9][A-Za-z0-9_-]*)/g;

/** Caches key pairs by name: deriving one costs two key imports. */
export class TestKeys {
  private readonly pairs = new Map<string, KeyPair>();

  /** The key pair of a signer name. */
  pair(name: string): KeyPair {
    let k = this.pairs.get(name);
    if (!k) {
      k = keyPairFromName(name);
      this.pairs.set(name, k);
    }
    return k;
  }

  /** Every signer name used so far, with its public key hex, in the order first used. */
  known(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, k] of this.pairs) Object.defineProperty(out, name, { value: k.publicKey, enumerable: true, writable: true, configurable: true });
    return out;
  }

  /** The public key hex of a signer name. */
  publicKey(name: string): string {
    return this.pair(name).publicKey;
  }

  /**
   * A copy of `value` where every `$key:NAME` in a string (a whole string, or
   * part of one such as a composed record key `"$key:alice/0"`; as a value or
   * as an object key) is NAME's public key hex. Object keys are replaced too
   * because state is often keyed by signer (`balances: { "$key:alice": 5 }`).
   */
  substitute(value: Json): Json {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.substitute(v));
    if (value !== null && typeof value === "object") {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) {
        // defineProperty, not assignment: a "__proto__" key in test data must stay data.
        Object.defineProperty(out, this.text(k), { value: this.substitute(v), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return value;
  }

  private text(s: string): string {
    if (!s.includes("$key:")) return s;
    const whole = KEY_REF.exec(s);
    if (whole) return this.publicKey(whole[1]);
    return s.replace(KEY_REF_INSIDE, (_, name: string) => this.publicKey(name));
  }
}
