/**
 * net: authenticated, encrypted peering over WebSockets (Noise XX with
 * ed25519 identities, ChaCha20-Poly1305 frames, logical channels with
 * priorities, bounded queues and rate limits, reconnect with backoff).
 * See docs/net.md.
 */
export { createPeerNetwork, type PeerNetwork, type PeerNetworkOptions, type PeerNetworkHandlers, type PeerAddress, type SendStatus, type NetStats, type PeerInfo, type ChannelCounters } from "./network.js";
export { STATECELL_CHANNELS, DEFAULT_LIMITS, MAX_CHANNEL_MESSAGE_BYTES, type ChannelSpec, type NetLimits, type WhenFull } from "./options.js";
export { CLOSE_REASONS, type CloseReason } from "./reasons.js";
export { PROTOCOL, prologueFor } from "./handshake.js";
export { reconnectDelay, type Backoff } from "./backoff.js";
export type { NetErrorCode } from "./errors.js";
export type { ConnectionInfo, Direction } from "./connection.js";
