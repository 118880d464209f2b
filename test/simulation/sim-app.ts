/**
 * What the simulator needs to know about the replicated application: the
 * Application itself, its genesis state, how to make a client input, and
 * how to tell which inputs a block already carries (so a node stops
 * offering them). The key/value app is the default; cells-app.ts runs the
 * real cells module.
 */
import type { Json } from "../../runtime/core/canonical.js";
import type { Application } from "../../runtime/consensus/types.js";
import { kvApp, KV_GENESIS, type KvInput, type KvValue } from "./kv-app.js";
import type { Rng } from "./prng.js";

export interface SimApp<S> {
  /** Shown by the CLI. */
  name: string;
  app: Application<S>;
  genesis: S;
  /** The seq-th client input of a run; draws only from `rng` so a seed replays. */
  makeInput(rng: Rng, seq: number): Json;
  /** The id a client gave an input. */
  inputId(input: Json): string;
  /** Ids of the inputs a block value carries. */
  inputIdsOf(value: Json): string[];
  /** A well-formed value that no honest validator would accept (a Byzantine "garbage" proposal). */
  garble(value: Json, rng: Rng): Json;
}

/** The key/value counter app (kv-app.ts): cheap, and the default for every existing seed. */
export const kvSimApp: SimApp<unknown> = {
  name: "kv",
  app: kvApp as Application<unknown>,
  genesis: KV_GENESIS,
  // Draw order (key, then add) is what every recorded kv seed was run with.
  makeInput: (rng, seq) => {
    const input: KvInput = { id: `i${seq}`, key: rng.pick(["a", "b", "c", "d"]), add: rng.int(-40, 60) };
    return input as unknown as Json;
  },
  inputId: (input) => (input as unknown as KvInput).id,
  inputIdsOf: (value) => (value as unknown as KvValue).inputs.map((i) => i.id),
  garble: (value, rng) => ({ ...(value as Record<string, Json>), root: rng.hex64() }),
};
