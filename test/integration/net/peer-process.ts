/**
 * A peer node in its own process, for test/integration/net. Config as JSON in
 * argv[2]: { name, allow: [names], port, networkId }. Prints one JSON line per
 * event on stdout ({listening}, {up}, {down}, {message}); echoes every
 * message back on its channel as "echo:" + text; reads JSON commands on
 * stdin: { send: { to: name, channel, text } }.
 */
import { createInterface } from "node:readline";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { createPeerNetwork, STATECELL_CHANNELS } from "../../../runtime/net/index.js";

const cfg = JSON.parse(process.argv[2]) as { name: string; allow: string[]; port: number; networkId: string };
const out = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);
const names = new Map(cfg.allow.map((n) => [keyPairFromName(n).publicKey, n]));

const net = createPeerNetwork(
  { identity: keyPairFromName(cfg.name), networkId: cfg.networkId, channels: STATECELL_CHANNELS, allow: new Set(names.keys()) },
  {
    onMessage(from, channel, bytes) {
      const text = Buffer.from(bytes).toString("utf8");
      out({ message: { from: names.get(from), channel, text } });
      net.send(from, channel, Buffer.from(`echo:${text}`));
    },
    onPeerUp: (k) => out({ up: names.get(k) }),
    onPeerDown: (k, reason) => out({ down: names.get(k), reason }),
  },
);

const { port } = await net.listen({ port: cfg.port });
out({ listening: port, pid: process.pid });

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { send?: { to: string; channel: string; text: string } };
  if (cmd.send) out({ sent: net.send(keyPairFromName(cmd.send.to).publicKey, cmd.send.channel, Buffer.from(cmd.send.text)) });
});
process.stdin.on("end", () => void net.close().then(() => process.exit(0)));
