/**
 * Rebuilding a cell's chain state from a restore point, as pure functions:
 * decode the snapshot (user fields + the records it had), check its root,
 * re-execute the blocks after it with the cell application, and check the
 * result against the head. The ledger does the reading; this does no I/O.
 */
import { decodeState, stateRootOf } from "../cells/index.js";
import { genesisCellChain, type Application, type CellChainState, type SignedRecord, type StartPoint, type WalEntry } from "../consensus/index.js";
import { clip, ledgerError } from "./errors.js";
import type { RestorePoint } from "./types.js";

/**
 * The chain state after the head of `point`: the snapshot's state, then
 * `app.applyValue` of every block after it (`app` is the cell's
 * `cellApplication`; a block it does not reproduce throws
 * CONSENSUS_APP_DIVERGED out of applyValue).
 * @throws StatecellError LEDGER_RESTORE_MISMATCH when the snapshot's or the head's state root is not reproduced
 */
export function restoreChainState(point: RestorePoint, app: Pick<Application<CellChainState>, "applyValue">): CellChainState {
  const { snapshot, head } = point;
  let chain: CellChainState;
  if (snapshot.height === 0) {
    chain = genesisCellChain();
  } else {
    const cell = decodeState(point.encoded);
    const root = stateRootOf(cell);
    if (root !== snapshot.stateRoot) {
      throw ledgerError("LEDGER_RESTORE_MISMATCH", `the snapshot at height ${snapshot.height} decodes to the state root ${clip(root, 16)}, not the stored ${clip(snapshot.stateRoot, 16)}`, "the ledger file is damaged or was edited: restore it from a backup, or rebuild the cell from genesis by catching up from the group", {
        height: snapshot.height,
        expected: snapshot.stateRoot,
        actual: root,
      });
    }
    chain = { height: snapshot.height, time: snapshot.time, cell, stateRoot: root, sent: point.counts.sent, received: point.counts.received };
    if (point.counts.token !== undefined) chain.token = point.counts.token;
  }
  for (const b of point.blocks) chain = app.applyValue(chain, b.value);
  if (chain.height !== head.height || (head.height > 0 && chain.stateRoot !== head.stateRoot)) {
    throw ledgerError(
      "LEDGER_RESTORE_MISMATCH",
      `replaying ${point.blocks.length} block(s) after the snapshot at height ${snapshot.height} gives height ${chain.height} with the state root ${clip(chain.stateRoot, 16)}, but the head is height ${head.height} with ${clip(head.stateRoot, 16)}`,
      "the ledger file is damaged or was edited: restore it from a backup, or rebuild the cell from genesis by catching up from the group",
      { height: head.height, expected: head.stateRoot, actual: chain.stateRoot },
    );
  }
  return chain;
}

/** Where consensus restarts after `chain` (the head's state): the next height, the head's hash, the signer's record. */
export function startPointAfter<S>(point: RestorePoint, chain: S, signer: SignedRecord | null): StartPoint<S> {
  return { height: point.head.height + 1, prevHash: point.head.hash, app: chain, signer };
}

/** What a restarted cell hands to consensus `restore(config, start, wal, now)`. */
export interface CellRestart<S = CellChainState> {
  chain: S;
  start: StartPoint<S>;
  wal: WalEntry[];
}
