/** core: canonical JSON, hashing, keys, errors. Depends on nothing else in statecell. */
export * from "./errors.js";
export * from "./canonical.js";
export * from "./hash.js";
export * from "./keys.js";
export * from "./suggest.js";
export * from "./freeze.js";
