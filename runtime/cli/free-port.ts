/**
 * Ports for local networks: what `statecell up` and the tests that start nodes use.
 *
 * A port is chosen now and bound later by another process (a node reads it
 * from its node file), so it can be taken in between. Two ways that happened:
 * the OS gives ports from its ephemeral range to every outgoing connection
 * (any HTTP client or peer link on the machine can take a port `listen(0)`
 * handed out a moment before), and it may hand the same port to two
 * `listen(0)` calls in a row. So ports are drawn below the ephemeral range,
 * where the OS never assigns one by itself, checked free by binding them, and
 * never handed out twice by one process.
 *
 * Two processes drawing at once (two `statecell up`, or test files running in
 * parallel) could still draw the same port: each sees it free, and the second
 * node to bind it exits. So a draw also claims the port for the whole machine:
 * it creates `statecell-ports/PORT` in the temporary directory, exclusively.
 * Another process skips a port whose claim is younger than CLAIM_MS (long
 * enough for a node to start and bind it); an older claim is stale and is
 * taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, utimesSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Lowest port drawn: above the registered services most machines run. */
const LOW = 10_000;
/** Draws before falling back to a port the OS picks. */
const TRIES = 64;

/** How long a claim keeps other processes off a port: a node binds its ports within seconds of being given them. */
export const CLAIM_MS = 120_000;

/** Where claims are kept: one empty file per claimed port. */
export function claimDir(): string {
  return join(tmpdir(), "statecell-ports");
}

/** Whether this process made sure the claims directory exists. */
let claimDirMade = false;

/**
 * Claims `port` for this machine: true when no other process claimed it in the
 * last CLAIM_MS. Where claims cannot be written at all (a read-only temporary
 * directory), every port counts as unclaimed: the bind check still applies.
 */
function claimPort(port: number): boolean {
  const file = join(claimDir(), String(port));
  try {
    if (!claimDirMade) {
      mkdirSync(claimDir(), { recursive: true });
      claimDirMade = true;
    }
    closeSync(openSync(file, "wx"));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") return true;
  }
  try {
    const now = Date.now();
    if (now - statSync(file).mtimeMs < CLAIM_MS) return false;
    // Stale: taken over. Two processes may both see it stale; the bind check and `given` still stand.
    const t = new Date(now);
    utimesSync(file, t, t);
    return true;
  } catch {
    return true;
  }
}

/** Ports this process has handed out (never again: their owner may not have bound them yet). */
const given = new Set<number>();

/** First port of the OS's ephemeral range (Linux reports it; 32768 is its default and a safe bound elsewhere). */
function ephemeralLow(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > LOW + 1000 && first <= 65535) return first;
  } catch {
    // Not Linux, or /proc hidden: the default below.
  }
  return 32_768;
}

/** The range ports are drawn from, read once: below the ephemeral range. */
let range: { low: number; high: number } | undefined;

/** Binds `port` on 127.0.0.1 and closes it again: the port, or undefined when it is in use. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(undefined));
    s.listen(port, "127.0.0.1", () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => res(got));
    });
  });
}

/**
 * A free port on 127.0.0.1 drawn from `low..high` (by default the range below
 * the ephemeral one), never one this process gave before; when every draw is
 * busy, one the OS picks.
 */
export async function freePort(low?: number, high?: number): Promise<number> {
  range ??= { low: LOW, high: ephemeralLow() - 1 };
  const lo = low ?? range.low;
  const hi = high ?? range.high;
  for (let i = 0; i < TRIES; i++) {
    const candidate = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (given.has(candidate) || !claimPort(candidate)) continue;
    const port = await tryPort(candidate);
    if (port !== undefined) {
      given.add(port);
      return port;
    }
  }
  for (let i = 0; i < TRIES; i++) {
    const port = await tryPort(0);
    if (port !== undefined && !given.has(port) && claimPort(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error("no free port on 127.0.0.1");
}
