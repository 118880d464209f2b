/**
 * `statecell verify` over a channel with a code cell: a real node (in this
 * process, its hooks in isolated-vm) commits inputs its `validate` hook
 * refuses and its `reduce` hook folds; the export verifies with the channel
 * file and with the code it carries; a code-cell block whose verdict was
 * changed and re-certified with the group's own key fails only because the
 * replay runs the hooks again; changed code is another definition.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyFile, loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { main } from "../../../runtime/cli/main.js";
import { hashJson } from "../../../runtime/core/hash.js";
import { signBytes } from "../../../runtime/core/keys.js";
import { precommitString } from "../../../runtime/consensus/index.js";
import { layoutNetwork, until } from "../dashboard/network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;

const CHANNEL = `channel: hooked
version: 1
groups:
  one: { validators: [v-1], threshold: 1 }
cells:
  items:
    group: one
    accepts: { type: object, required: [n], additionalProperties: false, properties: { n: { type: integer } } }
    code:
      file: ./hooks.js
      rejects:
        too-big: "more than 100"
`;
const HOOKS = `function validate(data, ctx) { return data.n > 100 ? { reject: "too-big" } : true; }
function reduce(state, data, ctx) { state.total = (state.total || 0) + data.n; state.last = ctx.random(); return state; }
`;

let dir: string;
let node: RunningNode | undefined;
let lines: string[] = [];
let out = "";

async function run(args: string[]): Promise<{ code: number; text: string }> {
  let text = "";
  const code = await main(args, (s) => (text += s));
  return { code, text };
}

describe("verify over a channel with a code cell", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-verify-code-"));
    writeFileSync(join(dir, "hooked.yaml"), CHANNEL);
    writeFileSync(join(dir, "hooks.js"), HOOKS);
    const [n] = await layoutNetwork(dir, ["v-1"], [join(dir, "hooked.yaml")]);
    const { config } = loadNodeConfig(n.config);
    node = await startNode(config!, { log: silent });
    // Three inputs the hooks accept and fold; one validate refuses (at admission's dry run, in the sandbox).
    const ids: string[] = [];
    for (const v of [5, 7, 11]) {
      const [r] = await node.core.submit("hooked", "items", [{ data: { n: v } }], "test");
      expect(r.status).toBe("pending");
      ids.push(r.id);
    }
    await until(() => ids.every((id) => node!.core.inputStatus(id)?.status === "committed"), 30_000, "the inputs to commit");
    const [big] = await node.core.submit("hooked", "items", [{ data: { n: 500 } }], "test");
    expect(big).toMatchObject({ status: "rejected", code: "CELL_CODE_REJECT", rule: "too-big" });
    expect(node.core.state("hooked", "items")).toMatchObject({ total: 23 });
    out = join(dir, "hooked.jsonl");
    const e = await run(["export", "--node", node.api.url, "--channel", "hooked", "--out", out]);
    expect(e.code, e.text).toBe(0);
    lines = readFileSync(out, "utf8").trimEnd().split("\n");
  }, 90_000);

  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the export of a code-cell channel verifies, with the channel file and with the code it carries", async () => {
    expect(JSON.parse(lines[1])).toMatchObject({ type: "definition", code: { "hooks.js": HOOKS } });
    const withFile = await run(["verify", out, join(dir, "hooked.yaml")]);
    expect(withFile.text).toMatch(/: ok: channel hooked/);
    expect(withFile.code).toBe(0);
    const embedded = await run(["verify", out, "--format", "json"]);
    expect(embedded.code, embedded.text).toBe(0);
    expect(JSON.parse(embedded.text)).toMatchObject({ ok: true, summary: { cells: { items: { blocks: expect.any(Number) } } } });
  });

  it("a code-cell block with a changed verdict, re-certified with the group's own key, fails at its re-execution", async () => {
    const recs = lines.map((l) => JSON.parse(l) as Record<string, any>);
    const at = recs.findIndex((r) => r.type === "block" && r.block.value.inputs.length > 0);
    expect(at).toBeGreaterThan(0);
    const forged = structuredClone(recs[at]);
    // The hook accepted it; the forgery says the hook refused it.
    forged.block.value.verdicts[0] = { accepted: false, code: "CELL_CODE_REJECT", rule: "too-big" };
    const valueId = hashJson("cell-block", forged.block.value);
    const key = loadKeyFile(join(dir, "keys", "v-1.key"));
    const h = forged.height as number;
    forged.block.certificate = { channel: "hooked", cell: "items", height: h, round: 0, valueId, signatures: [{ validator: key.publicKey, signature: signBytes(key, new TextEncoder().encode(precommitString("hooked", "items", h, 0, valueId))) }] };
    const tampered = join(dir, "tampered.jsonl");
    writeFileSync(tampered, `${lines.map((l, j) => (j === at ? JSON.stringify(forged) : l)).join("\n")}\n`);
    const r = await run(["verify", tampered, join(dir, "hooked.yaml")]);
    expect(r.code).toBe(1);
    expect(r.text).toContain(`tampered.jsonl:${at + 1}: CLI_VERIFY_DIVERGENCE (block, cell items, height ${h}): re-executing it does not give the block`);
    // The replay ran the hooks: its own verdict for the input is the hook's acceptance, and the state root matched.
    expect(r.text).toMatch(/has another verdict for input 0 than this node's \{"accepted":true\}/);
  });

  it("changed code is another definition: refused with the file given, and in the export's own record", async () => {
    const other = join(dir, "other");
    mkdirSync(other);
    writeFileSync(join(other, "hooked.yaml"), CHANNEL);
    writeFileSync(join(other, "hooks.js"), HOOKS.replace("data.n > 100", "data.n > 1000"));
    const r = await run(["verify", out, join(other, "hooked.yaml")]);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/CLI_VERIFY_DIVERGENCE \(definition\): the channel file .* another definition than the one the channel ran/);
    const def = JSON.parse(lines[1]) as { code: Record<string, string> };
    def.code["hooks.js"] = HOOKS.replace("data.n > 100", "data.n > 1000");
    const edited = join(dir, "edited.jsonl");
    writeFileSync(edited, `${lines.map((l, j) => (j === 1 ? JSON.stringify(def) : l)).join("\n")}\n`);
    const e = await run(["verify", edited]);
    expect(e.code).toBe(1);
    expect(e.text).toMatch(/CLI_VERIFY_DIVERGENCE \(definition\): the definition's text hashes to/);
  });
});
