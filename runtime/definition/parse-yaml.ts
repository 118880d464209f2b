/**
 * Stage 1: text to a YAML document and plain JSON, with the limits a hostile
 * file must not get past (README.md "Limits"): size, nesting depth, node count
 * and alias expansion (billion laughs). Problems are collected, never thrown.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Document, type Node } from "yaml";
import type { Json } from "../core/canonical.js";
import { Reporter, type AliasTargets } from "./reporter.js";

/** Largest channel or test file, in UTF-8 bytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Deepest nesting of YAML collections. */
export const MAX_YAML_DEPTH = 64;
/** Most nodes in one file, counted after alias expansion. */
export const MAX_YAML_NODES = 500_000;
/** Most nodes that aliases may add by expansion (billion-laughs guard). */
export const MAX_ALIAS_NODES = 10_000;

export interface ParsedYaml {
  reporter: Reporter;
  /** The document as JSON; undefined when the file could not be read as YAML within the limits. */
  value?: Json;
}

const FORBIDDEN_KEYS = new Set(["__proto__"]);

/** Parses `source` and reports YAML-level problems into the returned reporter. */
export function parseYaml(source: string, file: string): ParsedYaml {
  const bytes = new TextEncoder().encode(source).length;
  if (bytes > MAX_FILE_BYTES) {
    const reporter = new Reporter(file, source, undefined, undefined);
    reporter.error(
      "DEFINITION_TOO_LARGE",
      [],
      `the file is ${bytes} bytes; the limit is ${MAX_FILE_BYTES} bytes (1 MiB)`,
      "split the channel into smaller channels, or move large constants out of the file",
    );
    return { reporter };
  }
  const lines = new LineCounter();
  let doc: Document.Parsed;
  try {
    // logLevel "error": the library would otherwise print warnings to the console
    // (the pure core does no I/O); what it warns about is reported here instead.
    // uniqueKeys off: the library compares every key with every other (quadratic
    // in a mapping's size); toJson below finds duplicates with a set instead.
    doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, strict: true, logLevel: "error" });
  } catch (e: unknown) {
    // The YAML composer recurses per nesting level; absurd nesting overflows the stack.
    const reporter = new Reporter(file, source, undefined, undefined);
    reporter.error(
      e instanceof RangeError ? "DEFINITION_TOO_DEEP" : "DEFINITION_YAML_SYNTAX",
      [],
      e instanceof RangeError ? "the YAML nests too deeply to read" : `the YAML parser failed: ${errorText(e)}`,
      "flatten the structure",
    );
    return { reporter };
  }
  const aliases = aliasTargets(doc);
  const reporter = new Reporter(file, source, doc, lines, aliases);

  for (const err of doc.errors) {
    reporter.error("DEFINITION_YAML_SYNTAX", [], firstLine(err.message), syntaxRemedy(err.code), { location: reporter.locateOffset(err.pos[0]) });
  }
  for (const w of doc.warnings) {
    reporter.warn("DEFINITION_YAML_WARNING", [], firstLine(w.message), "remove the tag or quote the value", { location: reporter.locateOffset(w.pos[0]) });
  }
  if (doc.errors.length > 0) return { reporter };

  const value = toJson(doc, reporter, aliases);
  return value === undefined ? { reporter } : { reporter, value };
}

/**
 * The YAML tree to JSON in one walk, enforcing depth, node count and alias
 * expansion before anything is copied, and refusing what JSON cannot carry.
 * (One walk instead of yaml's toJS plus a check: loading is on the path of
 * every lint, reload and node start.) Aliases share the anchored value.
 */
function toJson(doc: Document.Parsed, reporter: Reporter, aliases: AliasTargets): Json | undefined {
  const memo = new Map<Node, { size: number; value: Json }>();
  const visiting = new Set<Node>();
  const path: Array<string | number> = [];
  let aliasNodes = 0;
  let nodes = 0;
  let failed = false;
  // Problems that do not stop the walk (duplicate keys): all of them are reported.
  let invalid = false;

  const fail = (code: string, node: Node, message: string, remedy: string, anchor: "key" | "value" = "value"): undefined => {
    if (!failed) reporter.error(code, [...path], message, remedy, { location: nodeLocation(reporter, node), anchor });
    failed = true;
    return undefined;
  };

  /** Returns [expanded size, value], or undefined after reporting a problem. */
  const walk = (node: Node | null | undefined, depth: number): { size: number; value: Json } | undefined => {
    if (failed) return undefined;
    if (!node) return { size: 0, value: null };
    if (depth > MAX_YAML_DEPTH) return fail("DEFINITION_TOO_DEEP", node, `the YAML nests deeper than ${MAX_YAML_DEPTH} levels`, "flatten the structure");
    if (isAlias(node)) {
      const target = aliases.get(node);
      if (!target) return fail("DEFINITION_YAML_SYNTAX", node, `alias *${node.source} has no anchor`, "define the anchor (&name) before the alias (*name)");
      if (visiting.has(target)) return fail("DEFINITION_NOT_JSON", node, `alias *${node.source} refers to a value that contains it`, "JSON cannot hold a value inside itself; write the values out");
      const done = memo.get(target) ?? walk(target, depth);
      if (!done) return undefined;
      aliasNodes += done.size;
      if (aliasNodes > MAX_ALIAS_NODES) {
        return fail(
          "DEFINITION_ALIAS_BOMB",
          node,
          `aliases expand to more than ${MAX_ALIAS_NODES} nodes (alias *${node.source} adds ${done.size})`,
          "write the values out, or use fewer aliases (a file that expands exponentially is refused)",
        );
      }
      return done;
    }
    // Only anchored nodes can be reached twice (through aliases): memoise just those.
    const anchored = (node as { anchor?: string }).anchor !== undefined;
    if (anchored) visiting.add(node);
    let result: { size: number; value: Json } | undefined;
    if (isMap(node)) {
      const out: { [k: string]: Json } = {};
      const seen = new Map<string, Node>();
      let size = 1;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (keyNode && !isScalar(keyNode)) {
          return fail("DEFINITION_NOT_JSON", keyNode, "a mapping key that is itself a list, a mapping or an alias cannot be part of a channel", "use text keys");
        }
        const raw = keyNode ? (keyNode as { value: unknown }).value : null;
        const key = raw === null || raw === undefined ? "" : String(raw);
        const lone = loneSurrogate(key);
        if (lone >= 0 && keyNode) return fail("DEFINITION_NOT_JSON", keyNode, loneMessage("key", key, lone), LONE_REMEDY, "key");
        const first = seen.get(key);
        if (first && keyNode) {
          invalid = true;
          const line = reporter.locateOffset(first.range?.[0] ?? 0).line;
          reporter.error("DEFINITION_DUPLICATE_KEY", [...path, key], `the key "${key}" appears twice in one mapping (first on line ${line})`, "keep one of the two keys", {
            location: nodeLocation(reporter, keyNode),
          });
        } else if (keyNode) seen.set(key, keyNode);
        path.push(key);
        if (FORBIDDEN_KEYS.has(key)) return fail("DEFINITION_FORBIDDEN_KEY", keyNode as Node, `the key "${key}" is not allowed anywhere in a channel`, "rename the key", "key");
        const child = walk(pair.value as Node | null, depth + 1);
        path.pop();
        if (!child) return undefined;
        size += 1 + child.size;
        // defineProperty: an own property even for names Object.prototype has.
        Object.defineProperty(out, key, { value: child.value, enumerable: true, writable: true, configurable: true });
      }
      result = { size, value: out };
    } else if (isSeq(node)) {
      const out: Json[] = [];
      let size = 1;
      for (let i = 0; i < node.items.length; i++) {
        path.push(i);
        const child = walk(node.items[i] as Node | null, depth + 1);
        path.pop();
        if (!child) return undefined;
        size += child.size;
        out.push(child.value);
      }
      result = { size, value: out };
    } else if (isScalar(node)) {
      const v = node.value;
      if (typeof v === "string" && loneSurrogate(v) >= 0) return fail("DEFINITION_NOT_JSON", node, loneMessage("text", v, loneSurrogate(v)), LONE_REMEDY);
      if (v === null || v === undefined || typeof v === "string" || typeof v === "boolean") result = { size: 1, value: v ?? null };
      else if (typeof v === "number") {
        if (!Number.isFinite(v)) return fail("DEFINITION_NOT_JSON", node, `${String(v)} is not a JSON number`, "use a finite number (or a string)");
        result = { size: 1, value: v };
      } else {
        return fail("DEFINITION_NOT_JSON", node, `a ${describeNonJson(v)} cannot be part of a channel`, "use only strings, numbers, booleans, null, lists and mappings with string keys");
      }
    } else {
      return fail("DEFINITION_NOT_JSON", node, "this YAML node cannot be part of a channel", "use only strings, numbers, booleans, null, lists and mappings");
    }
    nodes++;
    if (nodes > MAX_YAML_NODES || result.size > MAX_YAML_NODES) {
      return fail("DEFINITION_TOO_MANY_NODES", node, `the YAML has more than ${MAX_YAML_NODES} nodes`, "split the channel");
    }
    if (anchored) {
      visiting.delete(node);
      memo.set(node, result);
    }
    return result;
  };

  const root = walk(doc.contents as Node | null, 0);
  return failed || invalid || !root ? undefined : root.value;
}

/**
 * The node every alias stands for, found in one walk of the document. An
 * alias refers to the last node before it (in document order: keys before
 * values) that carries its anchor, as YAML redefines anchors. The yaml
 * library's Alias.resolve finds it by walking the whole document on every
 * call, so a file of 9,990 aliases to one scalar took 11 s to load and one
 * with a 200,000-item list before 2,000 aliases 46 s; this walk is linear.
 * Iterative, so no nesting the parser accepted can overflow the stack here.
 */
function aliasTargets(doc: Document.Parsed): AliasTargets {
  const targets = new Map<Alias, Node | undefined>();
  const latest = new Map<string, Node>();
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const item = stack.pop();
    if (isPair(item)) {
      stack.push(item.value, item.key);
      continue;
    }
    if (isAlias(item)) {
      targets.set(item, latest.get(item.source));
      continue;
    }
    if (!isScalar(item) && !isCollection(item)) continue;
    if (item.anchor !== undefined) latest.set(item.anchor, item);
    if (isCollection(item)) for (let i = item.items.length - 1; i >= 0; i--) stack.push(item.items[i]);
  }
  return targets;
}

/** Half of a UTF-16 surrogate pair without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The index of the first lone surrogate in `s`, or -1. A YAML double-quoted
 * string can write one (`"\ud800"`); UTF-8 cannot encode it and the plan's
 * hash (RFC 8785 canonical JSON) refuses it, so it must be a located problem
 * here rather than an exception when the plan is hashed.
 */
function loneSurrogate(s: string): number {
  // Most text has no surrogate at all: one scan of the cheap pattern decides.
  if (!ANY_SURROGATE.test(s)) return -1;
  const m = LONE_SURROGATE.exec(s);
  return m ? m.index : -1;
}

function loneMessage(what: "key" | "text", s: string, at: number): string {
  const unit = s.charCodeAt(at).toString(16).padStart(4, "0");
  const place = s.length > 1 ? ` at character ${at + 1}` : "";
  return `this ${what} holds a lone surrogate \\u${unit}${place} (half of a UTF-16 pair without its other half), which UTF-8 and canonical JSON cannot encode`;
}

const LONE_REMEDY = "write the whole character (the character itself, or both halves of its pair, e.g. \"\\ud83d\\ude00\"), or remove the escape";

function describeNonJson(v: unknown): string {
  if (v instanceof Uint8Array) return "binary value";
  if (v instanceof Map) return "mapping with complex keys";
  if (v instanceof Set) return "set";
  if (v instanceof Date) return "timestamp";
  return typeof v;
}

function nodeLocation(reporter: Reporter, node: Node) {
  return reporter.locateOffset(node.range?.[0] ?? 0);
}

function firstLine(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

function errorText(e: unknown): string {
  return e instanceof Error ? firstLine(e.message) : String(e);
}

function syntaxRemedy(code: string): string {
  switch (code) {
    case "MULTIPLE_DOCS":
      return "keep one YAML document per file (remove the `---` separator)";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation: keys of one mapping start in the same column, with spaces (not tabs)";
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    case "BAD_ALIAS":
      return "define the anchor (&name) before the alias (*name)";
    case "MULTILINE_IMPLICIT_KEY":
    case "BLOCK_AS_IMPLICIT_KEY":
      return "put a `:` after each key and quote text that contains `: ` or `#`";
    case "UNEXPECTED_TOKEN":
      return "quote the value if it contains characters YAML treats specially (`: `, `#`, `[`, `{`, `*`, `&`)";
    default:
      return "fix the YAML at the caret; quote values with special characters";
  }
}

