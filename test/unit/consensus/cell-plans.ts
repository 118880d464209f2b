/**
 * Small channels for testing the cell application: plans from YAML through
 * the real loader, a code runner made of plain functions that records the
 * options each call got, and signed submissions.
 */
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { requireChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { signedMessage, type CodeRunner, type HookRunOptions } from "../../../runtime/cells/index.js";

const GROUP = `
groups:
  g:
    validators: [a, b, c, d]
    threshold: 3
`;

/**
 * An unsigned cell `c` of four validators: records keyed by `id`, a schema
 * (ajv words its refusals), a rule whose message quotes the data, a count.
 * `limits` is the YAML of a `limits:` section (block and input limits).
 */
export function counterPlan(limits = ""): ChannelPlan {
  return requireChannel(
    `
channel: t
version: 1
${GROUP}
${limits}
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
`,
    { file: "test/counter.yaml" },
  );
}

/** A signed cell `s` of four validators (ballots keyed by signer). */
export function signedPlan(): ChannelPlan {
  return requireChannel(
    `
channel: t
version: 1
${GROUP}
cells:
  s:
    group: g
    signed: true
    accepts: { type: object, required: [choice], properties: { choice: { type: string } } }
    key: { var: signer }
`,
    { file: "test/signed.yaml" },
  );
}

/** A cell `h` whose code has a validate hook (run by the runner the test gives). */
export function hookPlan(): ChannelPlan {
  return requireChannel(
    `
channel: t
version: 1
${GROUP}
cells:
  h:
    group: g
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    code: ./h.js
    state:
      - add: count
        value: 1
`,
    { file: "test/hook.yaml" },
    { readFile: (p) => (p.endsWith("h.js") ? "function validate(data) { return true; }" : undefined), checkCode: () => ({ hooks: ["validate"], problems: [] }) },
  );
}

/** A submission to `plan`'s cell `cell`, signed by the name-derived key of `who`. */
export function signed(plan: ChannelPlan, cell: string, who: string, data: Json): Json {
  const key = keyPairFromName(who);
  return { data, signer: key.publicKey, signature: signBytes(key, signedMessage(plan.channel, cell, data)) };
}

/** What a fake validate hook sees of one call: the input's block index, and the call's options. */
export type ValidateCall = { index: number; data: Json; opts: HookRunOptions | undefined };

/**
 * A code runner with a validate hook only: `decide(call, n)` (n counts calls
 * so far, from 0) returns the hook's result for one input.
 */
export function recordingRunner(
  decide: (call: ValidateCall, n: number) => ReturnType<CodeRunner["validate"]>[number],
): CodeRunner & { calls: ValidateCall[][] } {
  const calls: ValidateCall[][] = [];
  return {
    calls,
    hooks: ["validate"],
    validate(items, opts) {
      const n = calls.length;
      const these = items.map((it) => ({ index: it.ctx.index, data: it.data, opts }));
      calls.push(these);
      return these.map((c) => decide(c, n));
    },
    transform: () => {
      throw new Error("no transform hook");
    },
    reduce: () => {
      throw new Error("no reduce hook");
    },
  };
}
