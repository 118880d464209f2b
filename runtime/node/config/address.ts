/**
 * Addresses in config files: `HOST:PORT` to listen on, and the URLs peers
 * and clients dial. The schemas check their outline; these check the parts
 * (a port in range, a URL that parses) and say which part is wrong.
 */

/** Where to listen. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT` (IPv6 in brackets) to an address, or why it is not one. */
export function parseListenAddress(text: string): ListenAddress | { error: string } {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return { error: `${JSON.stringify(text.slice(0, 80))} has no port (write HOST:PORT)` };
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  else if (host.includes(":")) return { error: `${JSON.stringify(text.slice(0, 80))}: an IPv6 host is written in brackets, e.g. [::1]:8080` };
  if (host === "") return { error: `${JSON.stringify(text.slice(0, 80))} has no host` };
  if (!/^[0-9]{1,5}$/.test(portText)) return { error: `the port of ${JSON.stringify(text.slice(0, 80))} is not a number` };
  const port = Number(portText);
  if (port > 65535) return { error: `the port ${port} is out of range; allowed: 0 to 65535` };
  return { host, port };
}

/** A `ws://`/`wss://` (peer) or `http://`/`https://` (api) URL's problem, or undefined when it is usable. */
export function urlProblem(text: string, kind: "peer" | "api"): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text.slice(0, 80))} is not a URL`;
  }
  if (url.username !== "" || url.password !== "") return `${JSON.stringify(url.origin)} carries a user name or password; the ${kind} address must not`;
  const schemes = kind === "peer" ? ["ws:", "wss:"] : ["http:", "https:"];
  if (!schemes.includes(url.protocol)) return `${JSON.stringify(text.slice(0, 80))} is not a ${schemes.map((s) => `${s}//`).join(" or ")} URL`;
  if (url.hostname === "") return `${JSON.stringify(text.slice(0, 80))} has no host`;
  if (url.search !== "" || url.hash !== "") return `${JSON.stringify(text.slice(0, 80))} has a query or fragment; write only the scheme, host, port (and path)`;
  return undefined;
}
