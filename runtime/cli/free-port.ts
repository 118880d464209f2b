/** Ports for local networks: what `statecell up` and the tests that start nodes use. */
import { createServer } from "node:net";

/** A free port on 127.0.0.1 (the OS picks; closed again before use). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}
