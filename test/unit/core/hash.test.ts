/**
 * core/hash computes sha256 with node:crypto; @noble/hashes, the audited
 * implementation the project used first, is the reference here: every digest
 * a ledger, a block or an input id holds must stay the same.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex as nobleHex } from "@noble/hashes/utils.js";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { canonicalBytes } from "../../../runtime/core/canonical.js";
import { hashJson, hashTagged, sha256Bytes, sha256Hex } from "../../../runtime/core/hash.js";

const bytesOf = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 3)) & 255);

describe("sha256 (node:crypto) against @noble/hashes", () => {
  test("every length around sha256's padding boundaries, and a block-sized value, give the same digest", () => {
    for (const n of [0, 1, 31, 32, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 250_000]) {
      const b = bytesOf(n, n);
      expect(sha256Hex(b), `length ${n}`).toBe(nobleHex(nobleSha256(b)));
      expect(Array.from(sha256Bytes(b)), `length ${n}`).toEqual(Array.from(nobleSha256(b)));
    }
    // The known answer for the empty input (FIPS 180-2).
    expect(sha256Hex(new Uint8Array(0))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  test("sha256Bytes is a plain Uint8Array of its own, not a view into a shared buffer", () => {
    const d = sha256Bytes(bytesOf(10, 1));
    expect(d.constructor).toBe(Uint8Array);
    expect(d.byteLength).toBe(32);
    expect(d.buffer.byteLength).toBe(32);
  });

  test("tagged hashes of random JSON values agree with noble over the tag and the RFC 8785 bytes", () => {
    const tagged = (domain: string, body: Uint8Array) => nobleHex(nobleSha256(new Uint8Array([...new TextEncoder().encode(`statecell:${domain}:`), ...body])));
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom("block", "input", "vote"), (v, domain) => {
        const body = canonicalBytes(v);
        expect(hashJson(domain, v)).toBe(tagged(domain, body));
        expect(hashTagged(domain, body)).toBe(tagged(domain, body));
      }),
      { numRuns: 300 },
    );
  });
});
