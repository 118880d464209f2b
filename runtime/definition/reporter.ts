/**
 * Collects located problems for one file. Every problem gets its code, a
 * `file:line:col` location found from the YAML node at its document path, an
 * excerpt with a caret and a remedy (docs/errors.md: problems found in a file
 * carry `file:line:col`, the offending line with a caret, and a fix).
 */
import { isAlias, isMap, isScalar, isSeq, isPair, type Document, type LineCounter, type Node } from "yaml";
import { excerptAt, type Problem, type Severity, type SourceLocation } from "../core/errors.js";
import type { DefinitionCode } from "./codes.js";
import { suggestBudget, type SuggestBudget } from "./suggest.js";

/** A path inside the document: keys and array indexes. */
export type DocPath = ReadonlyArray<string | number>;

/** `cells.readings.rules[0].name`: how problems name a place in the document. */
export function formatPath(path: DocPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

interface Found {
  node: Node | null;
  /** The key node of the last mapping entry walked through, when there was one. */
  key: Node | null;
  /** How many path segments were found. */
  depth: number;
}

/** Where on the node to point: at its key (unknown keys, names) or its value. */
export type Anchor = "key" | "value";

/** The problems of one file, and the YAML locator that places them. */
export class Reporter {
  readonly problems: Problem[] = [];
  /** The work all "did you mean" suggestions of this file may take together. */
  readonly suggestions: SuggestBudget = suggestBudget();

  constructor(
    readonly file: string,
    readonly source: string,
    private readonly doc: Document.Parsed | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /** Walks `path` through maps, sequences and aliases; stops at the deepest node found. */
  find(path: DocPath): Found {
    let node: Node | null = (this.doc?.contents as Node | null) ?? null;
    let key: Node | null = null;
    let depth = 0;
    for (const seg of path) {
      // Aliases are followed so that errors inside an anchored value point at the anchor's text.
      let hops = 0;
      while (node && isAlias(node) && this.doc && hops++ < 64) node = (node.resolve(this.doc) as Node | undefined) ?? null;
      if (!node) break;
      if (isMap(node)) {
        const pair = this.pairs(node).get(String(seg));
        if (!pair) break;
        key = (pair.key as Node | null) ?? null;
        node = (pair.value as Node | null) ?? null;
        if (!node) {
          depth++;
          break;
        }
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        key = null;
        node = item;
      } else break;
      depth++;
    }
    return { node, key, depth };
  }

  /** Key text to entry, per mapping, built on first use: locating stays linear in large files. */
  private readonly index = new WeakMap<object, Map<string, { key: unknown; value: unknown }>>();

  private pairs(map: { items: unknown[] }): Map<string, { key: unknown; value: unknown }> {
    let m = this.index.get(map);
    if (!m) {
      m = new Map();
      for (const p of map.items) {
        if (!isPair(p)) continue;
        const k = keyText(p.key);
        // The first entry wins, like the first of two duplicate keys the author sees.
        if (k !== undefined && !m.has(k)) m.set(k, p);
      }
      this.index.set(map, m);
    }
    return m;
  }

  /** Location of the node at `path` (or of the deepest part of it that exists). */
  locate(path: DocPath, anchor: Anchor = "value"): SourceLocation {
    const found = this.find(path);
    const complete = found.depth === path.length;
    let target: Node | null = found.node;
    // A missing value (`key:` with nothing after it) or an unknown key points at the key.
    if ((anchor === "key" && complete && found.key) || (!found.node && found.key)) target = found.key;
    // A block map or sequence spans many lines; point at where it starts.
    const range = target?.range;
    if (!range || !this.lines) return { file: this.file, line: 1, col: 1 };
    const start = this.lines.linePos(range[0]);
    const endOffset = isScalar(target) || isAlias(target) ? range[1] : range[0] + 1;
    const end = this.lines.linePos(Math.max(endOffset, range[0] + 1));
    return { file: this.file, line: start.line, col: start.col, endLine: end.line, endCol: end.col };
  }

  /** A location from a raw offset into the source (YAML parser errors). */
  locateOffset(offset: number): SourceLocation {
    if (!this.lines) return { file: this.file, line: 1, col: 1 };
    const p = this.lines.linePos(offset);
    return { file: this.file, line: p.line, col: p.col };
  }

  add(
    severity: Severity,
    code: DefinitionCode | string,
    path: DocPath,
    message: string,
    remedy: string,
    opts: { anchor?: Anchor; location?: SourceLocation } = {},
  ): Problem {
    const location = opts.location ?? this.locate(path, opts.anchor);
    const problem: Problem = {
      code,
      severity,
      message,
      remedy,
      location,
      path: formatPath(path),
      excerpt: excerptAt(this.source, location),
    };
    this.problems.push(problem);
    return problem;
  }

  error(code: DefinitionCode | string, path: DocPath, message: string, remedy: string, opts?: { anchor?: Anchor; location?: SourceLocation }): Problem {
    return this.add("error", code, path, message, remedy, opts);
  }

  warn(code: DefinitionCode | string, path: DocPath, message: string, remedy: string, opts?: { anchor?: Anchor; location?: SourceLocation }): Problem {
    return this.add("warning", code, path, message, remedy, opts);
  }

  hasErrors(): boolean {
    return this.problems.some((p) => p.severity === "error");
  }
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** Problems in file order (line, then column), errors before warnings at the same place. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.slice().sort((a, b) => {
    const la = a.location?.line ?? 0;
    const lb = b.location?.line ?? 0;
    if (la !== lb) return la - lb;
    const ca = a.location?.col ?? 0;
    const cb = b.location?.col ?? 0;
    if (ca !== cb) return ca - cb;
    return a.severity === b.severity ? 0 : a.severity === "error" ? -1 : 1;
  });
}
