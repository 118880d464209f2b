/**
 * Whether L0 has scheduled an upgrade of a channel from one definition to
 * another, and from which snapshot height (docs/l0.md, "Upgrades on the
 * nodes"). A node with an L0 stages a version with `activation:` only once
 * L0 holds an upgrade record from the version before it to this one,
 * approved by a threshold of the old version's snapshot group: `scheduled`
 * or already `in-effect`. Anything else is refused with what L0 holds of
 * the proposal (who approved, who is missing), so the operator knows the
 * next step. `upgradeSchedule` is pure over L0's answer; `scheduledUpgrade`
 * asks L0.
 */
import type { L0Client, L0Result } from "../../l0/client.js";
import type { UpgradeReadiness } from "../../l0/governance.js";

/** An upgrade L0 scheduled: the snapshot height from which it holds the new definition in force. */
export interface UpgradeSchedule {
  atSnapshot: number;
  /** The upgrade record's hash at L0. */
  record: string;
}

export type ScheduleAnswer = { ok: true; schedule: UpgradeSchedule } | { ok: false; code: "NODE_UPGRADE_NOT_SCHEDULED" | "NODE_L0_UNREACHABLE"; message: string; remedy: string };

const short = (h: string): string => `${h.slice(0, 12)}…`;

/** How one proposal stands, in a few words. */
function standing(u: UpgradeReadiness): string {
  const who = u.approvals.map((a) => a.name).join(", ") || "nobody";
  return `at snapshot height ${u.record.atHeight}: ${u.status}, ${u.approvals.length} of ${u.threshold} approvals (${who})${u.missing.length > 0 ? `, missing ${u.missing.join(", ")}` : ""}${u.refusal ? `, refused ${u.refusal.code}` : ""}`;
}

/** The schedule of the upgrade `from` -> `to` of `channel` in L0's upgrades answer `proposals`, or why there is none. */
export function upgradeSchedule(channel: string, from: string, to: string, proposals: readonly UpgradeReadiness[]): ScheduleAnswer {
  const mine = proposals.filter((u) => u.record.toDefinitionHash === to);
  const on = mine.find((u) => u.record.fromDefinitionHash === from && (u.status === "scheduled" || u.status === "in-effect"));
  if (on !== undefined) return { ok: true, schedule: { atSnapshot: on.record.atHeight, record: on.hash } };
  const remedy = `have a threshold of the snapshot group approve it (statecell channel approve FILE --key KEYFILE --at SNAPSHOT_HEIGHT), check with statecell channel readiness FILE, then send the file again; the version in force keeps running`;
  if (mine.length === 0) return { ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED", message: `L0 holds no upgrade of ${channel} to ${short(to)}`, remedy };
  return { ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED", message: `L0 has not scheduled the upgrade of ${channel} from ${short(from)} to ${short(to)}: ${mine.map(standing).join("; ")}`, remedy };
}

type UpgradesAnswer = Awaited<ReturnType<L0Client["upgrades"]>>;

/** Asks L0 (through `client`) for the schedule of the upgrade `from` -> `to` of `channel`. Never rejects. */
export async function scheduledUpgrade(client: Pick<L0Client, "upgrades" | "url">, channel: string, from: string, to: string): Promise<ScheduleAnswer> {
  let r: UpgradesAnswer | L0Result<never>;
  try {
    r = await client.upgrades(channel);
  } catch (e) {
    r = { ok: false, code: "L0_UNREACHABLE", message: String(e), remedy: "", actual: null, required: null, httpStatus: null, retryable: true };
  }
  if (!r.ok) {
    return {
      ok: false,
      code: r.retryable ? "NODE_L0_UNREACHABLE" : "NODE_UPGRADE_NOT_SCHEDULED",
      message: `L0 at ${client.url} did not say whether it scheduled the upgrade of ${channel}: ${r.code}: ${r.message}`,
      remedy: r.retryable ? "start L0 or check the node file's l0.url, then send the file again; the version in force keeps running" : r.remedy,
    };
  }
  return upgradeSchedule(channel, from, to, r.upgrades.upgrades);
}
