/**
 * A small keyed cell and a chain builder for ledger tests: real plans through
 * the loader, blocks built and applied by the real cell application, and
 * certificates of the right shape (the ledger stores certificates; checking
 * their signatures is consensus's job before `decide`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "../../../runtime/core/canonical.js";
import { requireChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { cellApplication, genesisCellChain, GENESIS_HASH, type CellApplication, type CellBlockValue, type CellChainState, type CertifiedBlock } from "../../../runtime/consensus/index.js";
import type { BlockCommit } from "../../../runtime/ledger/index.js";

/**
 * Channel `t`, cell `c`: records keyed by `id`, a rule (n <= 50), a count,
 * and `latest.<id>` per accepted input (user fields that grow with the inputs).
 */
export function keyedPlan(): ChannelPlan {
  return requireChannel(
    `
channel: t
version: 1
groups:
  g:
    validators: [a, b, c, d]
    threshold: 3
cells:
  c:
    group: g
    accepts:
      type: object
      required: [id, n]
      additionalProperties: false
      properties:
        id: { type: string, maxLength: 64 }
        n: { type: integer }
        pad: { type: string }
    key: { var: data.id }
    rules:
      - name: small
        require: { "<=": [ { var: data.n }, 50 ] }
        message: "{data.n} is more than 50"
    state:
      - add: count
        value: 1
      - set: latest.{data.id}
        value: { var: data.n }
`,
    { file: "test/ledger.yaml" },
  );
}

export const T0 = 1_700_000_000_000;

/** A certificate of the right shape for `value` (signatures are not checked by the ledger). */
export function certify(channel: string, cell: string, height: number, valueId: string): CertifiedBlock["certificate"] {
  return { channel, cell, height, round: 0, valueId, signatures: [{ validator: "a".repeat(64), signature: "b".repeat(128) }] };
}

/** Builds the blocks of one cell's chain, as a proposer and validator would, one height at a time. */
export class ChainBuilder {
  readonly app: CellApplication;
  chain: CellChainState = genesisCellChain();
  prevHash = GENESIS_HASH;

  constructor(
    readonly plan: ChannelPlan = keyedPlan(),
    readonly cell = "c",
  ) {
    this.app = cellApplication(plan, cell);
  }

  /** The next block over `pending`, applied: what a node commits after `decide`. */
  next(pending: readonly Json[]): BlockCommit & { valueId: string } {
    const height = this.chain.height + 1;
    const value = this.app.buildValue({ height, round: 0, prevHash: this.prevHash, time: T0 + height * 1000, state: this.chain, pending });
    const valueId = this.app.valueId(value);
    const state = this.app.applyValue(this.chain, value);
    const verdicts = this.app.verdictsOf(value);
    this.chain = state;
    this.prevHash = valueId;
    return { block: { height, value, certificate: certify(this.plan.channel, this.cell, height, valueId) }, state, verdicts, valueId };
  }

  /** The block value of a commit. */
  static value(c: BlockCommit): CellBlockValue {
    return c.block.value as unknown as CellBlockValue;
  }
}

/** `n` distinct inputs starting at `from` (n of 99 for every 7th: the rule rejects it). */
export function inputs(from: number, n: number, pad = ""): Json[] {
  return Array.from({ length: n }, (_, i): Json => {
    const k = from + i;
    // As a block carries a submission: `{ data }` (the cell is neither signed nor has operations).
    return { data: pad === "" ? { id: `k${k}`, n: k % 7 === 3 ? 99 : k % 50 } : { id: `k${k}`, n: k % 50, pad } };
  });
}

/** A fresh folder for ledger files; `cleanup` removes it. */
export function tempDir(prefix = "ledger-"): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (name = "node.db") => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The StatecellError code `f` throws. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    throw e;
  }
  throw new Error("did not throw");
}
