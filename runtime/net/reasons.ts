/**
 * Why a connection closed. Every close is counted under exactly one reason
 * (`stats().closes`), which the node exports as metrics; docs/net.md
 * describes each. The reason also travels to the remote side in the
 * WebSocket close frame (code 4000 + its index here, text = the reason) so an
 * operator can see why a peer refused them; that frame is not authenticated,
 * so the remote side counts it only as information (`closedByPeer`).
 */
export const CLOSE_REASONS = [
  // before the peer is authenticated
  "dial-failed",
  "handshake-timeout",
  "handshake-failed",
  "wrong-version",
  "wrong-network",
  "bad-identity",
  "unexpected-identity",
  "not-allowed",
  "self",
  "too-many-pending",
  "too-many-peers",
  "duplicate",
  // after: frames
  "decrypt-failed",
  "malformed-frame",
  "unsupported-version",
  "unknown-channel",
  "oversized-frame",
  "protocol-error",
  // liveness and local decisions
  "idle-timeout",
  "closed-by-peer",
  "disconnected",
  "shutdown",
] as const;

/** One of CLOSE_REASONS. */
export type CloseReason = (typeof CLOSE_REASONS)[number];

const CODE_BASE = 4000;

/** The WebSocket close code that carries `reason` (4000 + its index). */
export function closeCodeOf(reason: CloseReason): number {
  if (reason === "shutdown") return 1001; // "going away", the code WebSocket gives a server or page that leaves
  return CODE_BASE + CLOSE_REASONS.indexOf(reason);
}

/** The reason a remote side put in its close frame, when it is one of ours; otherwise undefined. */
export function reasonOfCloseCode(code: number): CloseReason | undefined {
  if (code === 1001) return "shutdown";
  const r = CLOSE_REASONS[code - CODE_BASE];
  return code >= CODE_BASE && r !== undefined ? r : undefined;
}

/** A counter per close reason, all zero. */
export function zeroCounts(): Record<CloseReason, number> {
  const out = {} as Record<CloseReason, number>;
  for (const r of CLOSE_REASONS) out[r] = 0;
  return out;
}
