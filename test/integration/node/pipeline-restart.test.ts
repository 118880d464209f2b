/**
 * A validator of a downstream cell killed with SIGKILL under load and started
 * again: city-3 validates only `districts`, the cell fed by the outputs of
 * `readings`. While it was down its group certified districts blocks made of
 * outputs it was never delivered; back, it catches up both what it missed and
 * what comes, holds the same districts chain as the others, and is needed
 * for a quorum again (with city-1 stopped, four of five sign only if city-3
 * takes part).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { alive, chain, getJson, head, restart, up, waitFor, type UpNetwork, type UpNode } from "./network.js";
import { Load } from "./traffic.js";

const CH = "air-quality";
const dir = mkdtempSync(join(tmpdir(), "statecell-pipeline-restart-"));
let net: UpNetwork | undefined;
const t0 = Date.now();
const step = (what: string) => console.log(`[+${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);

afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A valid reading, a new sensor and time each time. */
function reading(): { data: { sensor: string; pm25: number; pm10: number; at: number } } {
  const i = n++;
  return { data: { sensor: `${["cen", "nor", "sou", "eas", "wes"][i % 5]}-${i % 40}`, pm25: 5 + (i % 300) / 10, pm10: 40 + (i % 300) / 10, at: Date.now() - 60_000 + i } };
}

async function sameChains(nodes: readonly UpNode[], cell: string): Promise<number> {
  const h = Math.min(...(await Promise.all(nodes.map((x) => head(x.api, CH, cell)))).map((x) => x.height));
  const chains = await Promise.all(nodes.map((x) => chain(x.api, CH, cell, h)));
  for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);
  return h;
}

describe("a downstream validator killed and restarted", () => {
  it("catches up the cell fed by outputs it was never delivered, with the same chain, and signs again", async () => {
    net = await up(["channels/air-quality.yaml"], dir);
    step("network ready");
    const edge = ["edge-1", "edge-2", "edge-3", "edge-4"].map((x) => net!.byName(x));
    const city = ["edge-1", "edge-2", "city-1", "city-2", "city-3"].map((x) => net!.byName(x));
    const city3 = net.byName("city-3");
    const load = new Load(() => edge, CH, "readings", reading, 10);
    load.start(250);
    await waitFor(async () => (await head(city[0].api, CH, "districts")).height >= 3, 90_000, () => "districts commits under load");

    process.kill(city3.pid, "SIGKILL");
    await waitFor(() => !alive(city3.pid), 5000, () => "city-3 dead");
    const behindFrom = (await head(city[0].api, CH, "districts")).height;
    step(`city-3 killed at districts height ${behindFrom}`);
    // Four of five go on; blocks with outputs city-3 never received are certified meanwhile.
    await waitFor(async () => (await head(city[0].api, CH, "districts")).height >= behindFrom + 4, 90_000, () => "districts commits with city-3 down");
    const missed = await getJson<{ height: number }>(`${city[0].api}/v1/channels/${CH}/cells/districts`);

    restart(net, city3);
    step("city-3 restarted");
    await waitFor(
      async () => {
        try {
          return (await head(city3.api, CH, "districts")).height >= missed.body.height;
        } catch {
          return false;
        }
      },
      90_000,
      () => `city-3 did not catch up districts to ${missed.body.height}`,
    );
    step("city-3 caught up");
    // Ready once it has heard from a quorum of districts' validators since its start: the height it
    // caught up to may come from fewer peers' catch-up answers, the rest within the next heights.
    let ready = await getJson<{ ready: boolean; missing: string[] }>(`${city3.api}/readyz`);
    await waitFor(
      async () => (ready = await getJson<{ ready: boolean; missing: string[] }>(`${city3.api}/readyz`)).status === 200,
      10_000,
      () => `city-3 not ready 10 s after catching up: ${JSON.stringify(ready.body)}`,
    );
    step("city-3 ready");

    // city-1 stops: 4 of 5 must sign districts, so the group commits only with city-3 in it.
    const city1 = net.byName("city-1");
    process.kill(city1.pid, "SIGTERM");
    await waitFor(() => !alive(city1.pid), 15_000, () => "city-1 stopped");
    const at = (await head(city3.api, CH, "districts")).height;
    await waitFor(async () => (await head(city3.api, CH, "districts")).height >= at + 3, 90_000, () => `districts did not go on with city-3 in the quorum (stuck at ${at})`);
    step("districts commits with city-3 signing");
    await load.stop();
    const live = city.filter((x) => x !== city1);
    const compared = await sameChains(live, "districts");
    expect(compared).toBeGreaterThanOrEqual(at + 3);
    await sameChains(edge, "readings");
  }, 290_000);
});
