/**
 * The node's client API: HTTP routes and the WebSocket stream over a
 * `NodeCore` (runtime/node/core-types.ts). docs/api.md documents every
 * route, body, answer and code.
 */
export { createApiServer, type ApiServer, type ApiServerOptions, type ApiStats } from "./server.js";
export { DEFAULT_API_LIMITS, MAX_DATA_DEPTH, resolveLimits, type ApiLimits } from "./limits.js";
export { CLOSE_CODES } from "./stream.js";
export type { ApiCode, ApiFailure } from "./errors.js";
