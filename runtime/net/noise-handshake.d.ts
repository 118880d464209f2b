// noise-handshake 4 ships no types; these cover the part runtime/net uses (see noise.js of the package).
declare module "noise-handshake" {
  interface NoiseKeyPair {
    publicKey: Uint8Array;
    secretKey: Uint8Array;
  }
  class NoiseState {
    constructor(pattern: "XX", initiator: boolean, staticKeypair?: NoiseKeyPair);
    /** Own static key pair (X25519). */
    readonly s: NoiseKeyPair;
    /** Remote static public key, known once the message carrying it has been read. */
    readonly rs: Uint8Array | null;
    /** Session keys after the last message: `tx` encrypts what this side sends, `rx` what it receives. */
    readonly tx: Uint8Array | null;
    readonly rx: Uint8Array | null;
    /** The final handshake hash (64 bytes, BLAKE2b), once complete. */
    readonly hash: Uint8Array | null;
    readonly complete: boolean;
    initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
    /** The next handshake message, with `payload` (encrypted once a key exists). Throws on a failed DH. */
    send(payload?: Uint8Array): Uint8Array;
    /** Reads a handshake message; returns its payload. Throws on short input or a failed decryption. */
    recv(message: Uint8Array): Uint8Array;
    /** The running handshake hash (64 bytes), readable between messages. */
    getHandshakeHash(out?: Uint8Array): Uint8Array;
  }
  export default NoiseState;
}
