/**
 * Stage 3 of a block: what the accepted inputs did becomes the next state.
 * The records chain takes the new records (their bytes from admission), the
 * user digest rehashes the containers the block replaced, and the state root
 * combines both (commitment.ts, docs/execution.md "The state root").
 */
import type { Json } from "../../core/canonical.js";
import type { BlockResult, CellState, Verdict } from "../types.js";
import { chainRoot, combineRoots, deepFreeze, extendChain, register, visibleState } from "../commitment.js";
import { userDigest } from "../state-digest.js";
import { toHex } from "../digest.js";
import { recordsAppend } from "../records-store.js";
import { isWide } from "../wide-object.js";
import { shareUnchanged } from "../user-state.js";
import type { BlockEnv } from "./env.js";
import type { Settled } from "./settle.js";

export function commit(env: BlockEnv, state: CellState, settled: Settled): BlockResult {
  const { start } = env;
  const { wk, verdicts, accepted } = settled;
  let finalUser = wk.w.root;
  if (env.hooks.has("reduce") && finalUser !== start.user) {
    // Fresh copies from the sandbox: keep the identity of what did not change, so its digest is reused.
    finalUser = deepFreeze(shareUnchanged(start.user, finalUser)) as Record<string, Json>;
  }
  const outputs = wk.outputs;
  if (wk.added.length === 0 && finalUser === start.user) {
    env.lap("hash");
    return {
      verdicts: verdicts as Verdict[],
      state,
      outputs,
      stateRoot: toHex(start.stateRoot),
      commitment: { recordsRoot: toHex(start.recordsRoot), recordCount: start.chain.count },
      userRoot: toHex(start.userRoot),
      accepted,
      passes: 1,
    };
  }
  for (const c of wk.w.owned) if (!isWide(c)) Object.freeze(c);
  const records = recordsAppend(start.records, wk.src.added);
  env.lap("update");
  const chain = extendChain(start.chain, wk.added);
  const recordsRoot = chain === start.chain ? start.recordsRoot : chainRoot(chain);
  const userRoot = finalUser === start.user ? start.userRoot : userDigest(finalUser);
  const stateRoot = combineRoots(recordsRoot, userRoot);
  const commitment = { recordsRoot: toHex(recordsRoot), recordCount: chain.count };
  env.lap("hash");
  const next = Object.freeze(visibleState(finalUser, records));
  register(next, { user: finalUser, records, chain, recordsRoot, userRoot, stateRoot });
  env.lap("update");
  return { verdicts, state: next, outputs, stateRoot: toHex(stateRoot), commitment, userRoot: toHex(userRoot), accepted, passes: 1 };
}
