import { describe, it, expect } from "vitest";
import { generateKeyPair, keyPairFromName, keyPairFromSeed, signBytes, verifyBytes } from "../../../runtime/core/keys.js";

const msg = new TextEncoder().encode("statecell");

describe("ed25519 keys", () => {
  it("signs and verifies; a changed message or key fails", () => {
    const k = generateKeyPair();
    const sig = signBytes(k, msg);
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyBytes(k.publicKey, msg, sig)).toBe(true);
    expect(verifyBytes(k.publicKey, new TextEncoder().encode("statecelL"), sig)).toBe(false);
    expect(verifyBytes(generateKeyPair().publicKey, msg, sig)).toBe(false);
  });

  it("matches the RFC 8032 test vector 1 (empty message)", () => {
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    const k = keyPairFromSeed(seed);
    expect(k.publicKey).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    expect(signBytes(k, new Uint8Array())).toBe(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });

  it("derives the same test key from the same name, and different ones from different names", () => {
    expect(keyPairFromName("treasury").publicKey).toBe("209fa24dc65a0eb7a2953e119be5dbbd67ecfbb71007783be0a7d7c94cb2536c");
    expect(keyPairFromName("alice").publicKey).not.toBe(keyPairFromName("bob").publicKey);
  });

  it("never throws on malformed signatures or keys from strangers", () => {
    const k = generateKeyPair();
    expect(verifyBytes(k.publicKey, msg, "zz")).toBe(false);
    expect(verifyBytes("not-a-key", msg, "0".repeat(128))).toBe(false);
    expect(verifyBytes(k.publicKey, msg, 42 as unknown as string)).toBe(false);
  });
});
