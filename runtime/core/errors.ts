/**
 * Errors and problems. Every failure statecell reports carries a stable code
 * (prefixed by the module that raises it), a human message, an optional source
 * location and a remedy that says what to write instead. Codes are listed in
 * docs/errors.md; clients and tests match on codes, never on message text.
 */

/** A position in a source file, 1-based like editors show it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
  /** Optional end of the range, for editors and carets wider than one column. */
  endLine?: number;
  endCol?: number;
}

export type Severity = "error" | "warning";

/** One reported problem: what lint prints, what a failing load collects. */
export interface Problem {
  code: string;
  severity: Severity;
  message: string;
  /** What to write instead; always present for errors a user can fix. */
  remedy?: string;
  location?: SourceLocation;
  /** Path of the offending node inside the document, e.g. `cells.readings.group`. */
  path?: string;
  /** The source line and a caret, filled in when the source text is known. */
  excerpt?: string;
}

/**
 * The one error class statecell throws. `payload` is typed per code by the
 * raising module; `problems` holds every problem when several were collected.
 */
export class StatecellError extends Error {
  readonly code: string;
  readonly remedy: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly payload: Record<string, unknown>;
  readonly problems: readonly Problem[];

  constructor(
    code: string,
    message: string,
    opts: {
      remedy?: string;
      location?: SourceLocation;
      payload?: Record<string, unknown>;
      problems?: readonly Problem[];
      cause?: unknown;
    } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "StatecellError";
    this.code = code;
    this.remedy = opts.remedy;
    this.location = opts.location;
    this.payload = opts.payload ?? {};
    this.problems = opts.problems ?? [
      {
        code,
        severity: "error",
        message,
        ...(opts.remedy === undefined ? {} : { remedy: opts.remedy }),
        ...(opts.location === undefined ? {} : { location: opts.location }),
      },
    ];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      remedy: this.remedy,
      location: this.location,
      payload: this.payload,
      problems: this.problems,
    };
  }
}

/** True for errors raised by statecell itself (as opposed to bugs). */
export function isStatecellError(e: unknown): e is StatecellError {
  return e instanceof StatecellError;
}

/** `file:line:col`, the form editors and terminals turn into links. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/**
 * The source line of `loc` with a caret under the column (and a run of carets
 * to the end of the range when it stays on one line). Tabs are kept so the
 * caret lines up in a terminal.
 */
export function excerptAt(source: string, loc: SourceLocation): string {
  const lines = source.split(/\r?\n/);
  const text = lines[loc.line - 1];
  if (text === undefined) return "";
  const gutter = `${loc.line} | `;
  const pad = text.slice(0, Math.max(0, loc.col - 1)).replace(/[^\t]/g, " ");
  let width = 1;
  if (loc.endLine === loc.line && loc.endCol !== undefined && loc.endCol > loc.col) {
    width = Math.min(loc.endCol - loc.col, Math.max(1, text.length - loc.col + 1));
  }
  return `${gutter}${text}\n${" ".repeat(gutter.length)}${pad}${"^".repeat(width)}`;
}

/** Render problems the way `lint` prints them: location, code, message, excerpt, remedy. */
export function formatProblem(p: Problem): string {
  const where = p.location ? `${formatLocation(p.location)}: ` : "";
  const lines = [`${where}${p.severity} ${p.code}: ${p.message}`];
  if (p.excerpt) lines.push(p.excerpt.replace(/^/gm, "  "));
  if (p.remedy) lines.push(`  fix: ${p.remedy}`);
  return lines.join("\n");
}
