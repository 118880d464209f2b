/**
 * The consensus part of `statecell demo`: the poll's seven clerks, each
 * running the real consensus core with the ballots cell as its application,
 * agree on a block of signed ballots inside this process (nodes do not peer
 * over the network yet). Prints the verdicts, who signed the certificate and
 * whether it verifies.
 */
import type { Json } from "../core/canonical.js";
import { keyPairFromName, signBytes } from "../core/keys.js";
import { signedMessage } from "../cells/index.js";
import { cellApplication, runLocalGroup, verifyCertificate, type CellBlockValue } from "../consensus/index.js";
import { loadChannelFile } from "./load.js";

export function consensusDemo(out: (s: string) => void): number {
  const loaded = loadChannelFile("channels/poll.yaml");
  if (!loaded.plan) {
    out("channels/poll.yaml does not load; run `statecell lint channels/poll.yaml`\n");
    return 1;
  }
  const plan = loaded.plan;
  const ballot = (voter: string, choice: string): Json => {
    const key = keyPairFromName(voter);
    const data = { choice };
    return { data, signer: key.publicKey, signature: signBytes(key, signedMessage(plan.channel, "ballots", data)) };
  };
  const votes: Array<[string, string]> = [["ann", "parks"], ["ben", "transit"], ["ann", "housing"], ["cid", "bridges"], ["dee", "parks"]];
  const startTime = (plan.document as { params: { opensAt: number } }).params.opensAt + 60_000;
  const nodes = runLocalGroup({ plan, cell: "ballots", pending: votes.map(([v, c]) => ballot(v, c)), heights: 1, startTime });
  const group = plan.groups[plan.cells.ballots.group];
  const decided = nodes.filter((n) => n.decided.length > 0);
  out(`Group ${group.name}: ${group.validators.length} validators, ${group.threshold.quorum} must sign.\n`);
  if (decided.length !== nodes.length) {
    out(`only ${decided.length} of ${nodes.length} nodes decided a block\n`);
    return 1;
  }
  const app = cellApplication(plan, "ballots");
  const ids = new Set(decided.map((n) => app.valueId(n.decided[0].value)));
  const block = decided[0].decided[0];
  const value = block.value as unknown as CellBlockValue;
  out(`All ${nodes.length} nodes decided the same block 1 (${ids.size === 1 ? "one value id" : "DIFFERENT value ids"}: ${[...ids][0].slice(0, 16)}…) in round ${block.certificate.round}.\n`);
  // The block carries codes and rule names; the messages are the node's own, kept beside it.
  const full = decided[0].verdicts[0];
  value.verdicts.forEach((v, i) => {
    const [voter, choice] = votes[i];
    const message = full[i] && !full[i].accepted ? `: ${full[i].message}` : "";
    out(`  ballot ${i + 1} (${voter}: ${choice}): ${v.accepted ? "accepted" : `rejected ${v.rule ?? v.code}${message}`}\n`);
  });
  const keys = Object.fromEntries(group.validators.map((v) => [v, keyPairFromName(v).publicKey]));
  const check = verifyCertificate(group, keys, { channel: plan.channel, cell: "ballots", height: 1, valueId: app.valueId(block.value) }, block.certificate);
  const byKey = Object.fromEntries(Object.entries(keys).map(([n, k]) => [k, n]));
  out(`Commit certificate: ${block.certificate.signatures.length} precommits (${block.certificate.signatures.map((s) => byKey[s.validator]).join(", ")}), ${check.ok ? "verifies" : `does NOT verify: ${check.message}`}.\n`);
  out(`State root on every node: ${new Set(nodes.map((n) => n.state.app.stateRoot)).size === 1 ? value.stateRoot.slice(0, 16) + "…" : "DIFFERENT"}\n`);
  return ids.size === 1 && check.ok ? 0 : 1;
}
