/**
 * Rejection messages: a rule's `message` with its `{data.x}` placeholders
 * filled from the context the rule saw. Templates compile on the first
 * rejection of their rule (never on the accept path) and are cached.
 */
import type { RulePlan } from "../definition/plan.js";
import { createRuleEngine, type CompiledTemplate, type RuleContext, type RuleEngine } from "../rules/index.js";

let engine: RuleEngine | undefined;
const templates = new WeakMap<RulePlan, CompiledTemplate | null>();

/** The rule's message with placeholders filled; the raw text if the template cannot compile. */
export function ruleMessage(rule: RulePlan, ctx: RuleContext): string {
  let t = templates.get(rule);
  if (t === undefined) {
    try {
      // Templates read only `var` paths, which need no channel-specific operator.
      engine ??= createRuleEngine();
      t = engine.compileTemplate(rule.message);
    } catch {
      t = null; // the loader reports bad templates; here the text still says something
    }
    templates.set(rule, t);
  }
  if (t === null) return rule.message;
  try {
    return t.render(ctx);
  } catch {
    return rule.message;
  }
}
