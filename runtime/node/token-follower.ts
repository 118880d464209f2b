/**
 * What a node knows of its channel's token, for the cells here whose rules
 * read it (docs/token.md, "On a node"; cells/token-reads.ts says which).
 * Every node hosting such a cell has one, in the token's group or not:
 *
 * - In the token's group, the node's own token cell (token-host.ts) commits
 *   the blocks; the follower learns each committed state as it is stored
 *   (`learned`) and never writes.
 * - Outside it, the follower takes the token cell's certified blocks from the
 *   token group's nodes: pushed by them after each commit, and pulled by
 *   request (node.ts, as deliveries are). A block is kept only after its
 *   certificate verifies against the token group's keys over the value's id,
 *   and the pure token state machine re-executes it to the root it commits
 *   (token-application.ts `applyValue`); it is then stored in this node's
 *   ledger, in the token's own chain, before any cell can read it. So a
 *   restart finds every token height a committed block of a cell relied on.
 *
 * The views of the last `window` token heights are held in memory; an older
 * height (a cell replaying its blocks at a restart) is rebuilt from the
 * ledger's token blocks, replayed from genesis. Blocks that arrive ahead of
 * the next height wait (a bounded few) for the ones between.
 */
import type { Json } from "../core/canonical.js";
import type { ChannelPlan } from "../definition/plan.js";
import { verifyCertificate, type CertifiedBlock, type HeldTokenView, type SignatureVerifier, type ValidatorSet } from "../consensus/index.js";
import type { CellLedger } from "../ledger/index.js";
import { applyTokenBlock, tokenView, TOKEN_CELL, type TokenConfig } from "../token/index.js";
import type { Logger } from "./log.js";
import { genesisTokenChain, tokenApplication, type TokenApplication, type TokenBlockValue, type TokenChainState } from "./token-application.js";

/** Signatures of blocks this node stored after checking them in full. */
const trusted = (): boolean => true;

/** Token heights whose views are held in memory. */
export const TOKEN_WINDOW = 64;
/** Blocks ahead of the next height held until the ones between arrive. */
const AHEAD_KEPT = 64;

export interface TokenFollowerDeps {
  plan: ChannelPlan;
  config: TokenConfig;
  /** The token group's validators: every certificate is checked against them. */
  validators: ValidatorSet;
  verifier: SignatureVerifier;
  /** The token's chain in this node's ledger, opened with the token host's codec (`ledger.chain(channel, TOKEN_CELL, tokenCodec(config))`). */
  ledger: CellLedger<TokenChainState>;
  /** True when this node's token host writes that chain (in the token's group): the follower then only reads it. */
  hostWrites: boolean;
  log: Logger;
  /** Token heights held in memory (default TOKEN_WINDOW). */
  window?: number;
}

export class TokenFollower {
  readonly channel: string;
  /** Blocks refused, by reason (tests, logs). */
  readonly refused: Record<string, number> = {};
  private readonly app: TokenApplication;
  private readonly recent = new Map<number, TokenChainState>();
  private readonly ahead = new Map<number, CertifiedBlock>();
  private readonly window: number;
  private headChain: TokenChainState;
  private readonly genesis: TokenChainState;
  /** The chain state of the last height rebuilt from the ledger (a restart's replay reads heights in increasing order). */
  private cursor: TokenChainState | undefined;
  /** The last view built, by root and height. */
  private lastView: { root: string; height: number; view: Json } | undefined;
  /** The highest token height a value here named that this node did not hold. */
  private wanted = 0;

  constructor(private readonly d: TokenFollowerDeps) {
    this.channel = d.plan.channel;
    this.window = Math.max(1, d.window ?? TOKEN_WINDOW);
    this.app = tokenApplication(d.plan, d.config);
    this.genesis = genesisTokenChain(d.config);
    this.headChain = d.ledger.head().height === 0 ? this.genesis : d.ledger.codec.restore(d.ledger.restorePoint(), this.app);
    this.keep(this.headChain);
  }

  /** The freshest token height held. */
  get height(): number {
    return this.headChain.height;
  }

  /**
   * The token height a proposer names: the freshest held, so that a block
   * reads what was committed before it. A validator of the cell that does not
   * hold it yet finds the proposal not valid yet and pulls it; the others
   * decide without it while they are a quorum. (Naming an older height to
   * spare that round would make a block refuse what the token committed a
   * moment before, which is what a user notices.) The application never
   * names one below its previous block's.
   */
  proposable(): number {
    return this.headChain.height;
  }

  /** The token as committed at `height` (0: the genesis), or undefined while this node does not hold it. */
  viewAt(height: number): HeldTokenView | undefined {
    if (!Number.isSafeInteger(height) || height < 0 || height > this.headChain.height) return undefined;
    const chain = height === 0 ? this.genesis : (this.recent.get(height) ?? this.rebuilt(height));
    if (chain === undefined) return undefined;
    return { root: chain.stateRoot, view: this.viewOf(chain) };
  }

  /**
   * The view of `chain`: built once per state (tokenView caches it), and for
   * a state with the root of the last one built (an empty token block: a new
   * state object, the same content) the same balances with the new height.
   * A view costs about 1.3 us per account (docs/token.md, "Not yet"): an
   * idle token's empty blocks would otherwise rebuild it at every height.
   */
  private viewOf(chain: TokenChainState): Json {
    const last = this.lastView;
    if (last !== undefined && last.root === chain.stateRoot) {
      if (last.height === chain.height) return last.view;
      const view = Object.freeze({ ...(last.view as Record<string, Json>), height: chain.height }) as Json;
      this.lastView = { root: chain.stateRoot, height: chain.height, view };
      return view;
    }
    const view = tokenView(this.d.plan.token!, chain.token, chain.height, chain.stateRoot);
    this.lastView = { root: chain.stateRoot, height: chain.height, view };
    return view;
  }

  /** A value named `height`, which this node does not hold yet: the next pull asks for it. */
  missing(height: number): void {
    if (height > this.wanted) this.wanted = height;
  }

  /** Whether this node should ask the token group for blocks (outside the group only): the height to ask from, or undefined. */
  pullFrom(): number | undefined {
    if (this.d.hostWrites) return undefined;
    return this.headChain.height + 1;
  }

  /** Whether a value named a height above the head, or blocks wait for a gap (pull at once rather than at the next interval). */
  behind(): boolean {
    return this.wanted > this.headChain.height || this.ahead.size > 0;
  }

  /** In the token's group: the token host stored `chain` (the state after its block). */
  learned(chain: TokenChainState): void {
    if (chain.height <= this.headChain.height) return;
    this.headChain = chain;
    this.keep(chain);
  }

  /** The certified token blocks from `fromHeight` on, at most `max`, from this node's ledger (what it serves a follower). */
  served(fromHeight: number, max: number): CertifiedBlock[] {
    return this.d.ledger.blocks(fromHeight, max);
  }

  /**
   * Certified token blocks from a peer (untrusted): each checked and, when it
   * is the next height, applied and stored; returns how many were new, or why
   * the batch was refused (a refusal means the peer sent what a correct node never sends).
   */
  addCertified(blocks: readonly unknown[]): number | string {
    if (this.d.hostWrites) return 0;
    let added = 0;
    for (const raw of blocks) {
      const b = (raw as { block?: unknown } | null)?.block ?? raw;
      const why = this.check(b);
      if (typeof why === "string") {
        this.refused[why] = (this.refused[why] ?? 0) + 1;
        return why;
      }
      if (why.height <= this.headChain.height) continue;
      if (why.height > this.headChain.height + 1) {
        if (this.ahead.size < AHEAD_KEPT) this.ahead.set(why.height, why);
        continue;
      }
      const r = this.apply(why);
      if (typeof r === "string") return r;
      added++;
      for (let next = this.ahead.get(this.headChain.height + 1); next !== undefined; next = this.ahead.get(this.headChain.height + 1)) {
        this.ahead.delete(next.height);
        if (typeof this.apply(next) === "string") break;
        added++;
      }
    }
    for (const h of this.ahead.keys()) if (h <= this.headChain.height) this.ahead.delete(h);
    return added;
  }

  /** The block's certificate holds for its value, against the token group; or why not. */
  private check(raw: unknown): CertifiedBlock | string {
    if (typeof raw !== "object" || raw === null) return "malformed";
    const b = raw as Partial<CertifiedBlock>;
    if (!Number.isSafeInteger(b.height) || (b.height as number) < 1 || typeof b.value !== "object" || b.value === null || typeof b.certificate !== "object" || b.certificate === null) return "malformed";
    let valueId: string;
    try {
      valueId = this.app.valueId(b.value as Json);
    } catch {
      return "malformed";
    }
    const cert = verifyCertificate(this.d.validators, null, { channel: this.channel, cell: TOKEN_CELL, height: b.height as number, valueId }, b.certificate, this.d.verifier);
    if (!cert.ok) return "bad-certificate";
    return b as CertifiedBlock;
  }

  /** Re-executes the next block, stores it, holds its view; or why it does not re-execute. */
  private apply(block: CertifiedBlock): true | string {
    let chain: TokenChainState;
    try {
      chain = this.app.applyValue(this.headChain, block.value);
    } catch (e) {
      // A block its group certified that this node does not reproduce: more faulty validators than tolerated, or this node runs another definition.
      this.refused["not-reproduced"] = (this.refused["not-reproduced"] ?? 0) + 1;
      this.d.log.error("certified token block does not re-execute", { channel: this.channel, height: block.height, error: e instanceof Error ? e.message : String(e) });
      return "not-reproduced";
    }
    // Durable before any cell reads it: a committed block of a cell may name it.
    this.d.ledger.commit({ block, state: chain });
    this.headChain = chain;
    this.keep(chain);
    return true;
  }

  private keep(chain: TokenChainState): void {
    this.recent.set(chain.height, chain);
    for (const h of this.recent.keys()) {
      if (this.recent.size <= this.window) break;
      this.recent.delete(h); // insertion order: the oldest first
    }
  }

  /**
   * The state at `height` rebuilt from the ledger's token blocks (from the
   * last rebuilt height, or genesis). Signatures are not checked again: every
   * block in this node's ledger was checked in full (certificate, signatures,
   * re-execution) before it was stored; each root is still checked, so a
   * damaged ledger is noticed. About ten times faster than a full check.
   */
  private rebuilt(height: number): TokenChainState | undefined {
    let chain = this.cursor !== undefined && this.cursor.height <= height ? this.cursor : this.genesis;
    try {
      while (chain.height < height) {
        const blocks = this.d.ledger.blocks(chain.height + 1, Math.min(256, height - chain.height));
        if (blocks.length === 0) return undefined;
        for (const b of blocks) {
          const v = b.value as unknown as TokenBlockValue;
          const r = applyTokenBlock(this.d.config, chain.token, v.inputs, { height: v.height, time: v.time }, trusted);
          if (r.root !== v.stateRoot) throw new Error(`token block ${v.height} in the ledger replays to the root ${r.root.slice(0, 16)}, not its ${String(v.stateRoot).slice(0, 16)}`);
          chain = { height: v.height, time: v.time, token: r.state, stateRoot: r.root };
        }
      }
    } catch (e) {
      this.d.log.error("token blocks in the ledger do not replay", { channel: this.channel, height, error: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
    this.cursor = chain;
    return chain;
  }
}
