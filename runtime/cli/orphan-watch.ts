/**
 * The CLI under the bin launcher (bin/statecell.js runs it as a child to add
 * Node's flags) stops when the launcher is gone. SIGINT and SIGTERM sent to
 * the launcher are passed on, but SIGKILL cannot be: without this, `kill -9`
 * of the pid an operator sees would leave the node running, holding its
 * ports and its ledger. The launcher names itself in STATECELL_LAUNCHER_PID;
 * when the parent process is no longer that pid, the CLI sends itself
 * SIGTERM, so a node shuts down as it does on SIGTERM (stop admission,
 * finish the round safely, flush) and a one-shot command ends.
 */

/** How often the parent is checked (ms). */
export const ORPHAN_CHECK_MS = 500;

/** Starts the watch when the launcher named itself; returns a stop function (also unref'd: it never keeps the process alive). */
export function watchLauncher(env: NodeJS.ProcessEnv = process.env, parent: () => number = () => process.ppid, stop: () => void = () => void process.kill(process.pid, "SIGTERM")): () => void {
  const pid = Number(env.STATECELL_LAUNCHER_PID);
  if (!Number.isSafeInteger(pid) || pid <= 0 || parent() !== pid) return () => {};
  const t = setInterval(() => {
    if (parent() === pid) return;
    clearInterval(t);
    stop();
  }, ORPHAN_CHECK_MS);
  t.unref();
  return () => clearInterval(t);
}
