/**
 * A cell whose rules read the token, restored from the ledger: the chain
 * state keeps the token head its last block read (from the snapshot's block
 * value), so the restarted node refuses a next block that reads an older
 * token head, as the nodes that never stopped do.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { requireChannel } from "../../../runtime/definition/index.js";
import { cellApplication, genesisCellChain, GENESIS_HASH, type CellChainState, type HeldTokenView } from "../../../runtime/consensus/index.js";
import { openLedger, restoreChainState } from "../../../runtime/ledger/index.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { genesisTokenState, tokenConfig, tokenStateRoot, tokenView } from "../../../runtime/token/index.js";
import { certify, T0, tempDir } from "./helpers.js";

const plan = requireChannel(readFileSync(join(import.meta.dirname, "..", "..", "..", "channels", "token.yaml"), "utf8"), { file: "channels/token.yaml" });
const config = tokenConfig(plan, (n) => keyPairFromName(n).publicKey);
const state = genesisTokenState(config);
// Two token heights with the same content: what matters here is the height a block names.
const held = (h: number): HeldTokenView | undefined => (h <= 2 ? { root: tokenStateRoot(state), view: tokenView(plan.token!, state, h) } : undefined);

describe("restoring a cell that reads the token", () => {
  const tmp = tempDir("ledger-token-");
  afterAll(() => tmp.cleanup());

  it("the restored chain state names the token head of the snapshot's block; the next block may not go below it", () => {
    const ledger = openLedger(tmp.file());
    const cell = ledger.cell(plan.channel, "claims");
    const app = cellApplication(plan, "claims", {}, { token: held, tokenHead: () => 2 });
    let chain: CellChainState = genesisCellChain();
    const value = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: T0, state: chain, pending: [] });
    chain = app.applyValue(chain, value);
    const id = app.valueId(value);
    cell.commit({ block: { height: 1, value, certificate: certify(plan.channel, "claims", 1, id) }, state: chain });
    expect(chain.token).toMatchObject({ height: 2 });

    const fresh = cellApplication(plan, "claims", {}, { token: held, tokenHead: () => 2 });
    const restored = restoreChainState(cell.restorePoint(), fresh);
    expect(restored.token).toEqual(chain.token);
    const next = fresh.buildValue({ height: 2, round: 0, prevHash: id, time: T0 + 1000, state: restored, pending: [] }) as unknown as { token: { height: number; root: string } };
    const back = { ...next, token: { height: 1, root: next.token.root } };
    expect(fresh.validateValue({ height: 2, prevHash: id, state: restored }, back as never)).toBe(false);
    expect(fresh.validateValue({ height: 2, prevHash: id, state: restored }, next as never)).toBe(true);
    ledger.close();
  });
});
