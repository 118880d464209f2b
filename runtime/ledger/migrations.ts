/**
 * Numbered schema migrations for a SQLite file: the runner the node's ledger
 * and the L0 store share. A file records every step applied in its own table;
 * opening applies the missing steps in order, each in its own transaction with
 * its row (a crash between steps leaves a file at a known version), and
 * refuses a file that has a step this code does not know (an older process
 * must not write tables it does not understand).
 */
import type Database from "better-sqlite3";

/** One migration step: `up` runs inside a transaction with the step's row. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/**
 * Brings `db` to the last of `steps`, recording them in `table`; returns the
 * versions applied. `tooNew(version, known)` makes the error thrown when the
 * file has a step `steps` does not know (its newest version, and ours).
 */
export function applyMigrations(db: Database.Database, table: string, steps: readonly Migration[], tooNew: (version: number, known: number) => Error): number[] {
  if (!/^[a-z][a-z0-9_]*$/.test(table)) throw new Error(`migration table name ${JSON.stringify(table)} is not a plain identifier`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`);
  const known = new Set(steps.map((s) => s.version));
  const have = db.prepare(`SELECT version FROM ${table} ORDER BY version`).pluck().all() as number[];
  if (have.some((v) => !known.has(v))) throw tooNew(Math.max(...have), steps.length === 0 ? 0 : steps[steps.length - 1].version);
  const applied: number[] = [];
  const record = db.prepare(`INSERT INTO ${table} (version, name, applied) VALUES (?, ?, ?)`);
  for (const step of steps) {
    if (have.includes(step.version)) continue;
    db.transaction(() => {
      step.up(db);
      record.run(step.version, step.name, Date.now());
    }).immediate();
    applied.push(step.version);
  }
  return applied;
}
