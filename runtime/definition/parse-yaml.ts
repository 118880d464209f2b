/**
 * Stage 1: text to a YAML document and plain JSON, with the limits a hostile
 * file must not get past (STYLE.md habit 6): size, nesting depth, node count
 * and alias expansion (billion laughs). Problems are collected, never thrown.
 */
import { isAlias, isMap, isPair, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { Json } from "../core/canonical.js";
import { Reporter } from "./reporter.js";

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
    doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true, logLevel: "error" });
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
  const reporter = new Reporter(file, source, doc, lines);

  for (const err of doc.errors) {
    const location = reporter.locateOffset(err.pos[0]);
    if (err.code === "DUPLICATE_KEY") {
      const key = source.slice(err.pos[0]).split(/[\n:]/)[0].trim();
      reporter.error("DEFINITION_DUPLICATE_KEY", [], key ? `the key "${key}" appears twice in one mapping` : firstLine(err.message), "keep one of the two keys (the later one repeats an earlier key of the same mapping)", { location });
    } else {
      reporter.error("DEFINITION_YAML_SYNTAX", [], firstLine(err.message), syntaxRemedy(err.code), { location });
    }
  }
  for (const w of doc.warnings) {
    reporter.warn("DEFINITION_YAML_WARNING", [], firstLine(w.message), "remove the tag or quote the value", { location: reporter.locateOffset(w.pos[0]) });
  }
  if (doc.errors.length > 0) return { reporter };

  if (!checkStructure(doc, reporter)) return { reporter };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_NODES });
  } catch (e: unknown) {
    reporter.error("DEFINITION_ALIAS_BOMB", [], `the aliases expand too much: ${errorText(e)}`, "write the values out, or use fewer aliases");
    return { reporter };
  }
  if (!checkJson(value, [], reporter, 0)) return { reporter };
  return { reporter, value: value as Json };
}

/** Depth, node count and alias expansion, measured on the YAML tree before converting it. */
function checkStructure(doc: Document.Parsed, reporter: Reporter): boolean {
  const sizes = new Map<Node, number>();
  const visiting = new Set<Node>();
  let aliasNodes = 0;
  let nodes = 0;
  let failed = false;

  const sizeOf = (node: Node | null | undefined, depth: number): number => {
    if (failed || !node) return 0;
    if (depth > MAX_YAML_DEPTH) {
      failed = true;
      reporter.error("DEFINITION_TOO_DEEP", [], `the YAML nests deeper than ${MAX_YAML_DEPTH} levels`, "flatten the structure", {
        location: rangeLocation(reporter, node),
      });
      return 0;
    }
    if (isAlias(node)) {
      const target = node.resolve(doc) as Node | undefined;
      if (!target || visiting.has(target)) return 1;
      const size = sizes.get(target) ?? sizeOf(target, depth);
      aliasNodes += size;
      if (!failed && aliasNodes > MAX_ALIAS_NODES) {
        failed = true;
        reporter.error(
          "DEFINITION_ALIAS_BOMB",
          [],
          `aliases expand to more than ${MAX_ALIAS_NODES} nodes (alias *${node.source} adds ${size})`,
          "write the values out, or use fewer aliases (a file that expands exponentially is refused)",
          { location: rangeLocation(reporter, node) },
        );
      }
      return size;
    }
    // Only anchored nodes can be reached twice (through aliases): memoise just those.
    const anchored = (node as { anchor?: string }).anchor !== undefined;
    if (anchored) {
      const cached = sizes.get(node);
      if (cached !== undefined) return cached;
      visiting.add(node);
    }
    let size = 1;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (!failed && (isMap(pair.key) || isSeq(pair.key))) {
          failed = true;
          reporter.error("DEFINITION_NOT_JSON", [], "a mapping key that is itself a list or mapping cannot be part of a channel", "use text keys", {
            location: rangeLocation(reporter, pair.key as Node),
          });
          return 0;
        }
        size += sizeOf(pair.key as Node | null, depth + 1) + sizeOf(pair.value as Node | null, depth + 1);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) size += sizeOf(item as Node | null, depth + 1);
    }
    if (anchored) {
      visiting.delete(node);
      sizes.set(node, size);
    }
    nodes++;
    return size;
  };

  const total = sizeOf(doc.contents as Node | null, 0);
  if (failed) return false;
  if (total > MAX_YAML_NODES || nodes > MAX_YAML_NODES) {
    reporter.error("DEFINITION_TOO_MANY_NODES", [], `the YAML has ${total} nodes; the limit is ${MAX_YAML_NODES}`, "split the channel");
    return false;
  }
  return true;
}

/** Values YAML can hold but JSON cannot (and keys that would reach Object.prototype). */
function checkJson(value: unknown, path: Array<string | number>, reporter: Reporter, depth: number): boolean {
  // `path` is one mutable stack (pushed and popped), copied only when a problem is reported.
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return true;
    reporter.error("DEFINITION_NOT_JSON", [...path], `${String(value)} is not a JSON number`, "use a finite number (or a string)");
    return false;
  }
  if (depth > MAX_YAML_DEPTH + 1) return true; // already limited by checkStructure; keeps this walk bounded
  if (Array.isArray(value)) {
    let ok = true;
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      ok = checkJson(value[i], path, reporter, depth + 1) && ok;
      path.pop();
    }
    return ok;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let ok = true;
    for (const k of Object.keys(value)) {
      path.push(k);
      if (FORBIDDEN_KEYS.has(k)) {
        reporter.error("DEFINITION_FORBIDDEN_KEY", [...path], `the key "${k}" is not allowed anywhere in a channel`, "rename the key", { anchor: "key" });
        ok = false;
      } else ok = checkJson((value as Record<string, unknown>)[k], path, reporter, depth + 1) && ok;
      path.pop();
    }
    return ok;
  }
  reporter.error("DEFINITION_NOT_JSON", [...path], `a ${describeNonJson(value)} cannot be part of a channel`, "use only strings, numbers, booleans, null, lists and mappings with string keys");
  return false;
}

function describeNonJson(v: unknown): string {
  if (v instanceof Uint8Array) return "binary value";
  if (v instanceof Map) return "mapping with complex keys";
  if (v instanceof Set) return "set";
  if (v instanceof Date) return "timestamp";
  return typeof v;
}

function rangeLocation(reporter: Reporter, node: Node) {
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

