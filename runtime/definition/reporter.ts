/**
 * Collects located problems for one file. Every problem gets its code, a
 * `file:line:col` location found from the YAML node at its document path, an
 * excerpt with a caret and a remedy (docs/errors.md: problems found in a file
 * carry `file:line:col`, the offending line with a caret, and a fix).
 */
import { isAlias, isMap, isScalar, isSeq, isPair, type Alias, type Document, type LineCounter, type Node } from "yaml";
import type { Problem, Severity, SourceLocation } from "../core/errors.js";
import type { DefinitionCode } from "./codes.js";
import { suggestBudget, type SuggestBudget } from "./suggest.js";

/** The node each alias of a document stands for (undefined: no anchor before it), found once per file. */
export type AliasTargets = ReadonlyMap<Alias, Node | undefined>;

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
    private readonly aliases: AliasTargets = new Map(),
  ) {}

  /** Walks `path` through maps, sequences and aliases; stops at the deepest node found. */
  find(path: DocPath): Found {
    let node: Node | null = (this.doc?.contents as Node | null) ?? null;
    let key: Node | null = null;
    let depth = 0;
    for (const seg of path) {
      // Aliases are followed so that errors inside an anchored value point at the anchor's text.
      let hops = 0;
      while (node && isAlias(node) && hops++ < 64) node = this.aliases.get(node) ?? null;
      if (!node) break;
      if (isMap(node)) {
        const pair = this.pair(node, String(seg));
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

  /** The first entry of `map` with key `key`: a scan of a small mapping, an index of a large one. */
  private pair(map: { items: unknown[] }, key: string): { key: unknown; value: unknown } | undefined {
    if (map.items.length > 8) return this.pairs(map).get(key);
    for (const p of map.items) if (isPair(p) && keyText(p.key) === key) return p;
    return undefined;
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
      excerpt: this.excerpt(location),
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

  /** Offsets where lines start, found once: an excerpt per problem must not scan the whole file again. */
  private lineStarts: number[] | undefined;

  /**
   * The line of `loc` with a caret under it: the text core's excerptAt
   * produces, from one line instead of a split of the whole source (which made
   * a file with thousands of problems quadratic).
   */
  excerpt(loc: SourceLocation): string {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.source.indexOf("\n"); i !== -1; i = this.source.indexOf("\n", i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const start = this.lineStarts[loc.line - 1];
    if (start === undefined || loc.line < 1) return "";
    const next = this.lineStarts[loc.line];
    let text = this.source.slice(start, next === undefined ? this.source.length : next - 1);
    if (next !== undefined && text.endsWith("\r")) text = text.slice(0, -1);
    const gutter = `${loc.line} | `;
    const pad = text.slice(0, Math.max(0, loc.col - 1)).replace(/[^\t]/g, " ");
    let width = 1;
    if (loc.endLine === loc.line && loc.endCol !== undefined && loc.endCol > loc.col) {
      width = Math.min(loc.endCol - loc.col, Math.max(1, text.length - loc.col + 1));
    }
    return `${gutter}${text}\n${" ".repeat(gutter.length)}${pad}${"^".repeat(width)}`;
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
