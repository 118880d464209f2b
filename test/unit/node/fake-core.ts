/**
 * A fake NodeCore for the API's tests: it hosts the cells it is given,
 * answers submissions from memory (id = sha256 of the canonical submission,
 * as the contract says), and records every call so tests can count work.
 * Behaviour can be changed per test (a slow submit, a throwing core).
 */
import { createHash } from "node:crypto";
import { canonicalString, type Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import type { CellHead, InputStatus, NodeCore, NodeEvent, Readiness, StoredBlock, SubmitResult } from "../../../runtime/node/core-types.js";

export interface FakeCore extends NodeCore {
  calls: { submit: Array<{ channel: string; cell: string; submissions: unknown[] }> };
  statuses: Map<string, InputStatus>;
  heads: Map<string, CellHead>;
  blocks: Map<string, StoredBlock>;
  states: Map<string, Json>;
  records: Map<string, Json>;
  ready: Readiness;
  listeners: Set<(e: NodeEvent) => void>;
  /** Replaces the answer of submit (default: pending, or rejected when data.reject is true). */
  onSubmit?: (channel: string, cell: string, submissions: readonly unknown[]) => Promise<SubmitResult[]> | SubmitResult[];
  emit(event: NodeEvent): void;
}

export function submissionId(submission: unknown): string {
  return createHash("sha256").update(canonicalString(submission), "utf8").digest("hex");
}

/** A fake core hosting `cells` ("channel/cell" strings). */
export function fakeCore(cells: string[] = ["air-quality/readings", "poll/ballots"]): FakeCore {
  const hosted = cells.map((c) => {
    const [channel, cell] = c.split("/");
    return { channel, cell };
  });
  const core: FakeCore = {
    calls: { submit: [] },
    statuses: new Map(),
    heads: new Map(),
    blocks: new Map(),
    states: new Map(),
    records: new Map(),
    ready: { ready: true, missing: [] },
    listeners: new Set(),
    hosted: () => hosted,
    async submit(channel, cell, submissions) {
      if (!hosted.some((h) => h.channel === channel && h.cell === cell)) {
        throw new StatecellError("NODE_NOT_HOSTED", `not hosted: ${channel}/${cell}`);
      }
      core.calls.submit.push({ channel, cell, submissions: [...submissions] });
      if (core.onSubmit) return core.onSubmit(channel, cell, submissions);
      return submissions.map((s) => {
        const id = submissionId(s);
        const data = (s as { data?: { reject?: boolean } }).data;
        if (data && typeof data === "object" && data.reject === true) return { id, status: "rejected" as const, code: "CELL_RULE", rule: "no-reject", message: "rejected on request" };
        core.statuses.set(id, { id, status: "pending", channel, cell });
        return { id, status: "pending" as const };
      });
    },
    inputStatus: (id) => core.statuses.get(id),
    head: (channel, cell) => core.heads.get(`${channel}/${cell}`),
    block: (channel, cell, height) => core.blocks.get(`${channel}/${cell}/${height}`),
    state: (channel, cell) => core.states.get(`${channel}/${cell}`),
    record: (channel, cell, key) => core.records.get(`${channel}/${cell}/${key}`),
    readiness: () => core.ready,
    subscribe(listener) {
      core.listeners.add(listener);
      return () => core.listeners.delete(listener);
    },
    emit(event) {
      for (const l of core.listeners) l(event);
    },
  };
  return core;
}
