/**
 * `statecell node --config node.yaml`: runs one validator node until SIGINT
 * or SIGTERM, then stops it gracefully (admission first, a short grace for the
 * block being decided, then drivers, sockets, ledger; runtime/node/shutdown.ts)
 * and exits 0.
 * A group that stops because this node is broken ends the process with exit
 * code 3, loudly: a node that cannot reproduce its group's blocks must not go
 * on as if it could.
 */
import { formatProblem, isStatecellError } from "../core/errors.js";
import { loadNodeConfig } from "../node/config/index.js";
import { startNode } from "../node/node.js";
import { createLogger } from "../node/log.js";
import { gracefulStop } from "../node/shutdown.js";
import { watchFolder } from "../node/watch.js";

export async function nodeCommand(configPath: string | undefined, out: (s: string) => void, opts: { watch?: string } = {}): Promise<number> {
  if (configPath === undefined) {
    out("statecell node: give the node file: statecell node --config node.yaml\n");
    return 2;
  }
  const loaded = loadNodeConfig(configPath);
  if (!loaded.config) {
    for (const p of loaded.problems) out(`${formatProblem(p)}\n`);
    return 1;
  }
  const log = createLogger(1);
  let node;
  try {
    node = await startNode(loaded.config, {
      log,
      onFatal: () => {
        // Logged by the node; the stores are consistent (every write was a transaction).
        process.exit(3);
      },
    });
  } catch (e) {
    out(`statecell node: ${isStatecellError(e) ? `${e.code}: ${e.message}${e.remedy ? `\n  fix: ${e.remedy}` : ""}` : e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const running = node;
  // --watch: the node follows a folder of channel files (runtime/node/watch.ts).
  const watch = opts.watch === undefined ? undefined : watchFolder(opts.watch, running.admin, () => running.channels.plans().map((p) => p.channel), log);
  void watch?.poll();
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info("stopping", { signal });
      watch?.stop();
      gracefulStop(running, { log, signal }).then(
        () => resolve(0),
        (e: unknown) => {
          log.error("stop failed", { error: String(e) });
          resolve(1);
        },
      );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
}
