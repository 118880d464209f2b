/**
 * Progress of long CLI work (`statecell verify`, `export`, `test`), on
 * standard error so standard output stays the command's answer:
 *
 * - on a terminal, one bar redrawn in place (`\r`), at most 10 times a
 *   second, and erased at the end;
 * - otherwise (a pipe, a CI log), plain lines, one every `everyMs` (2 s),
 *   and a last one when the work ends, so a log shows the work moving
 *   without a line per item.
 *
 * Nothing is shown for work that ends within `afterMs` (1 s): a small run
 * prints exactly what it printed before. Hand-made rather than a library:
 * a bar is a dozen lines, and the lines a log gets are the contract here.
 */

export interface ProgressOptions {
  /** Where it goes (standard error by default); a terminal when `isTTY` is true. */
  to?: { write(s: string): unknown; isTTY?: boolean };
  /** Milliseconds clock (injected by tests). */
  now?: () => number;
  /** Nothing is shown before this many ms (default 1000). */
  afterMs?: number;
  /** Least ms between two plain lines (default 2000). */
  everyMs?: number;
}

export interface Progress {
  /** `done` of `total` `unit`s (`total` may grow, or be unknown: 0); `note` is shown after the count. */
  update(done: number, total: number, note?: string): void;
  /** The work ended: the bar is erased, or a last plain line is written (when anything was shown). */
  end(): void;
}

const BAR_WIDTH = 30;
const BAR_EVERY_MS = 100;

/**
 * A progress display for `label` (e.g. "statecell export air-quality") counting `unit`s.
 * @example
 * const p = progress("statecell verify a.jsonl", "records");
 * for (...) p.update(n, total);
 * p.end();
 */
export function progress(label: string, unit: string, opts: ProgressOptions = {}): Progress {
  const to = opts.to ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const tty = to.isTTY === true;
  const afterMs = opts.afterMs ?? 1000;
  const everyMs = opts.everyMs ?? 2000;
  const started = now();
  let last: { done: number; total: number; note?: string } | undefined;
  let shownAt: number | undefined;
  let drawn = false;

  const text = (s: { done: number; total: number; note?: string }): string => `${s.total > 0 ? `${s.done}/${s.total}` : `${s.done}`} ${unit}${s.note ? `, ${s.note}` : ""}`;
  const show = (t: number): void => {
    if (last === undefined) return;
    shownAt = t;
    if (tty) {
      const frac = last.total > 0 ? Math.min(1, last.done / last.total) : 0;
      const filled = Math.round(frac * BAR_WIDTH);
      to.write(`\r\x1b[K${label} [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${text(last)}`);
      drawn = true;
    } else {
      to.write(`${label}: ${text(last)}\n`);
    }
  };

  return {
    update(done, total, note) {
      last = { done, total, ...(note !== undefined ? { note } : {}) };
      const t = now();
      if (t - started < afterMs) return;
      if (shownAt !== undefined && t - shownAt < (tty ? BAR_EVERY_MS : everyMs)) return;
      show(t);
    },
    end() {
      if (shownAt === undefined) return;
      if (tty) {
        if (drawn) to.write("\r\x1b[K");
        return;
      }
      if (last !== undefined) to.write(`${label}: ${text(last)}, done\n`);
    },
  };
}
