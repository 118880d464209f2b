/**
 * Pinned encodings and hashes: if any of these move, every validator built
 * before the change disagrees with every validator built after it. Regenerate
 * vectors.json (generate.ts) only for an intended encoding change.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { canonicalString, utf8 } from "../../../runtime/core/canonical.js";
import { sha256Hex } from "../../../runtime/core/hash.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { sha256 as nativeSha256, toHex } from "../../../runtime/cells/digest.js";
import { VECTOR_BLOCKS, VECTOR_CHANNEL } from "./block.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors.json", import.meta.url), "utf8")) as {
  canonical: Array<{ value: unknown; canonical: string; sha256: string }>;
  blocks: Array<{ verdicts: unknown[]; stateRoot: string; userRoot: string; commitment: unknown; state: string }>;
};

describe("external known answers", () => {
  test("RFC 8785 section 3.2.3 sample", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalString(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  test("FIPS 180-2 sha256 of 'abc' and '' through @noble/hashes and node:crypto", () => {
    expect(sha256Hex(utf8("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(nativeSha256(utf8("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(nativeSha256(utf8("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("pinned canonical encodings", () => {
  test.each(vectors.canonical.map((v) => [v.canonical, v] as const))("%s", (_name, v) => {
    expect(canonicalString(v.value)).toBe(v.canonical);
    const bytes = utf8(v.canonical);
    expect(sha256Hex(bytes)).toBe(v.sha256);
    // The state root hashes natively; both implementations must agree byte for byte.
    expect(toHex(nativeSha256(bytes))).toBe(v.sha256);
  });

  test("native and noble sha256 agree on large and split inputs", () => {
    const big = new Uint8Array(1_000_003).map((_, i) => (i * 31) & 255);
    expect(toHex(nativeSha256(big))).toBe(sha256Hex(big));
    expect(toHex(nativeSha256(big.subarray(0, 10), big.subarray(10)))).toBe(sha256Hex(big));
  });
});

describe("pinned block execution", () => {
  test("verdicts, canonical state, records commitment and state roots of two blocks", () => {
    const plan = requireChannel(VECTOR_CHANNEL, { file: "vectors.yaml" });
    let state: CellState = {};
    VECTOR_BLOCKS.forEach((b, i) => {
      const inputs = b.inputs.map((t) => admitInput(plan, "readings", t) as BlockInput);
      const r = executeBlock(plan, "readings", state, inputs, b.header);
      const pinned = vectors.blocks[i];
      expect(r.verdicts).toEqual(pinned.verdicts);
      expect(canonicalString(r.state)).toBe(pinned.state);
      expect(r.commitment).toEqual(pinned.commitment);
      expect(r.userRoot).toBe(pinned.userRoot);
      expect(r.stateRoot).toBe(pinned.stateRoot);
      state = r.state;
    });
  });
});
