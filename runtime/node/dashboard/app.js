// The node's dashboard: one view of the node (GET /v1/dashboard), kept
// live over the node's WebSocket feed (at most twice a second), drawn for
// the page the hash names: #/ (every channel), #/channel/NAME, and
// #/channel/NAME/cell/CELL. When the feed is unavailable it polls.
import { h, route, ago } from "./dom.js";
import { pipelineGraph } from "./graph.js";
import { activityChart } from "./chart.js";

/** A base-unit amount (decimal text) in whole tokens: "100050" with 2 decimals is "1000.50". Text only, never a float. */
function tokens(units, decimals) {
  const t = String(units);
  if (!decimals) return t;
  const padded = t.padStart(decimals + 1, "0");
  return `${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

let view = null;
let live = false;

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "channel" && parts[1] !== undefined) return { channel: parts[1], cell: parts[2] === "cell" ? parts[3] : undefined };
  return {};
}

function tolerates(t) {
  return `tolerates ${t.livenessFaults} offline, ${t.safetyFaults} Byzantine`;
}

function statusPill(status) {
  return h("span", { class: `pill ${status}`, "data-testid": "channel-status" }, status);
}

function validatorList(group) {
  return h("ul", { class: "validators" }, group.validators.map((v) =>
    h("li", { class: v.online ? "online" : "offline", "data-testid": `validator-${v.name}`, "data-online": String(v.online) },
      h("span", { class: "dot" }), v.name, v.self ? " (this node)" : "", " ", h("span", { class: "muted" }, v.online ? "online" : "offline"))));
}

function groupsSection(ch) {
  return h("section", {}, h("h2", {}, "Groups"), h("div", { class: "cards" }, ch.groups.map((g) => {
    const online = g.validators.filter((v) => v.online).length;
    return h("div", { class: "card", "data-testid": `group-${g.name}` },
      h("h3", {}, g.name, " ", h("span", { class: online >= g.threshold.quorum ? "pill running" : "pill stopped" }, `${online}/${g.validators.length} online`)),
      g.description ? h("p", { class: "muted" }, g.description) : null,
      h("p", {}, `threshold ${g.threshold.quorum} of ${g.threshold.size} (written ${g.threshold.written}); ${tolerates(g.threshold)}`),
      validatorList(g));
  })));
}

function rejectionItem(r, now) {
  return h("li", { class: "rejection", "data-testid": "rejection" },
    h("div", {}, h("b", {}, r.rule ? `rule ${r.rule}` : r.code), " ", h("span", { class: "muted" }, `${r.cell}${r.height !== undefined ? ` · block ${r.height}` : " · refused at admission"} · ${r.code} · ${ago(r.at, now)}`)),
    r.requires ? h("div", { class: "requires" }, `requires: ${r.requires}`) : null,
    r.description ? h("div", { class: "muted" }, r.description) : null,
    h("div", { class: "message" }, r.message),
    h("pre", { class: "input" }, r.input));
}

function rejectionsSection(list, now) {
  return h("section", {}, h("h2", {}, "Recent rejections"),
    list.length === 0 ? h("p", { class: "muted" }, "none yet") : h("ul", { class: "rejections", "data-testid": "rejections" }, list.slice(0, 12).map((r) => rejectionItem(r, now))));
}

function cellsTable(ch) {
  return h("table", { "data-testid": "cells" },
    h("thead", {}, h("tr", {}, h("th", {}, "cell"), h("th", {}, "group"), h("th", {}, "height"), h("th", {}, "round / step"), h("th", {}, "mempool"), h("th", {}, "last block"))),
    h("tbody", {}, ch.cells.map((c) => {
      const last = c.lastBlock;
      return h("tr", { "data-testid": `cell-row-${c.name}` },
        h("td", {}, h("a", { href: route("channel", ch.channel, "cell", c.name) }, c.name)),
        h("td", {}, c.group),
        h("td", { "data-testid": `height-${c.name}` }, c.height === null ? "—" : String(c.height)),
        h("td", {}, c.round === null ? "—" : `${c.round} / ${c.step}`),
        h("td", {}, c.mempool === null ? "—" : String(c.mempool)),
        h("td", {}, last ? `${last.inputs} inputs, ${last.rejected} rejected, ${last.latencyMs} ms` : "—"));
    })));
}

function snapshotsSection(ch) {
  const last = ch.snapshots.last;
  return h("section", { "data-testid": "snapshots" }, h("h2", {}, "Snapshots and L0"),
    h("p", {}, ch.snapshots.configured ? `snapshots: ${ch.snapshots.configured}` : "this channel declares no snapshots"),
    h("p", {}, last ? `last snapshot at height ${last.height} (${last.hash.slice(0, 12)}…): L0 ${last.l0}` : "last snapshot: not yet; L0 status: not yet"));
}

function tokenSection(ch) {
  const t = ch.token;
  if (!t) return null;
  return h("section", { "data-testid": "token" }, h("h2", {}, `Token ${t.name} (${t.symbol})`),
    h("p", {}, `supply ${tokens(t.supply, t.decimals)} ${t.symbol}; top balances ${t.from === "state" ? "from the state" : "at genesis"}`),
    h("table", {}, h("tbody", {}, t.top.map((b) => h("tr", {}, h("td", { class: "mono" }, b.account.length > 20 ? `${b.account.slice(0, 18)}…` : b.account), h("td", {}, tokens(b.balance, t.decimals)))))));
}

function chartSection(ch) {
  const sum = ch.series.reduce((a, x) => a + x.inputs, 0);
  return h("section", {}, h("h2", {}, "Throughput and latency"),
    h("p", { class: "muted" }, `${sum} inputs committed in the last minute (bars: committed, red: rejected; line: commit latency)`),
    activityChart(ch.series));
}

function channelCard(ch) {
  const blocks = ch.series.reduce((a, x) => a + x.blocks, 0);
  return h("div", { class: "card", "data-testid": `channel-${ch.channel}` },
    h("h2", {}, h("a", { href: route("channel", ch.channel) }, ch.channel), " ", h("span", { class: "muted" }, `v${ch.version}`), " ", statusPill(ch.status)),
    ch.description ? h("p", { class: "muted" }, ch.description) : null,
    pipelineGraph(ch),
    h("p", {}, `${blocks} blocks in the last minute; ${ch.rejections.length} recent rejections`));
}

function overview(v) {
  if (v.channels.length === 0) return [h("p", {}, "This node hosts no channel.")];
  return [h("div", { class: "cards wide" }, v.channels.map(channelCard))];
}

function channelPage(ch, now) {
  return [
    h("h1", {}, ch.channel, " ", h("span", { class: "muted" }, `v${ch.version}`), " ", statusPill(ch.status)),
    ch.description ? h("p", { class: "muted" }, ch.description) : null,
    ch.lastError ? h("p", { class: "error", "data-testid": "last-error" }, `${ch.lastError.code}: ${ch.lastError.message}`) : null,
    h("section", {}, h("h2", {}, "Pipeline"), pipelineGraph(ch)),
    h("section", {}, h("h2", {}, "Cells"), cellsTable(ch)),
    groupsSection(ch),
    chartSection(ch),
    rejectionsSection(ch.rejections, now),
    snapshotsSection(ch),
    tokenSection(ch),
  ];
}

function cellPage(ch, c, now) {
  const g = ch.groups.find((x) => x.name === c.group);
  return [
    h("h1", {}, c.name, " ", h("span", { class: "muted" }, `in ${ch.channel}`)),
    c.description ? h("p", { class: "muted" }, c.description) : null,
    h("p", {}, `group ${c.group}`, g ? `: ${g.threshold.quorum} of ${g.threshold.size}, ${tolerates(g.threshold)}` : "",
      c.upstream.length ? `; from ${c.upstream.join(", ")}` : "; a source cell", c.downstream.length ? `; to ${c.downstream.join(", ")}` : "", c.signed ? "; signed inputs" : "", c.code ? "; runs code hooks" : ""),
    h("p", { "data-testid": "cell-height" }, c.height === null ? "This node does not host this cell." : `height ${c.height}, round ${c.round}, step ${c.step}, ${c.mempool} pending`),
    g ? h("section", {}, h("h2", {}, "Validators"), validatorList(g)) : null,
    h("section", {}, h("h2", {}, "Rules"), c.rules.length === 0 ? h("p", { class: "muted" }, "no rules") :
      h("ul", {}, c.rules.map((r) => h("li", {}, h("b", {}, r.name), ": ", r.requires, r.description ? h("div", { class: "muted" }, r.description) : null)))),
    h("section", {}, h("h2", {}, "Recent blocks with inputs"), c.blocks.length === 0 ? h("p", { class: "muted" }, "none yet") :
      h("table", { "data-testid": "blocks" }, h("thead", {}, h("tr", {}, h("th", {}, "height"), h("th", {}, "inputs"), h("th", {}, "rejected"), h("th", {}, "latency"), h("th", {}, "committed"))),
        h("tbody", {}, [...c.blocks].reverse().map((b) => h("tr", { "data-testid": "block" }, h("td", {}, String(b.height)), h("td", {}, String(b.inputs)), h("td", {}, String(b.rejected)), h("td", {}, `${b.latencyMs} ms`), h("td", {}, ago(b.at, now))))))),
    rejectionsSection(ch.rejections.filter((r) => r.cell === c.name), now),
  ];
}

function render() {
  const main = document.getElementById("main");
  const crumbs = document.getElementById("crumbs");
  if (!view) return;
  document.getElementById("node").textContent = `node ${view.node}`;
  const where = parseHash();
  const ch = where.channel === undefined ? undefined : view.channels.find((c) => c.channel === where.channel);
  const cell = ch && where.cell !== undefined ? ch.cells.find((c) => c.name === where.cell) : undefined;
  crumbs.replaceChildren(h("span", {}, h("a", { href: "#/" }, "all channels"),
    ch ? [" › ", h("a", { href: route("channel", ch.channel) }, ch.channel)] : null,
    cell ? [" › ", h("a", { href: route("channel", ch.channel, "cell", cell.name) }, cell.name)] : null));
  let content;
  if (where.channel === undefined) content = overview(view);
  else if (!ch) content = [h("p", {}, `This node does not host the channel ${where.channel}.`)];
  else if (where.cell === undefined) content = channelPage(ch, view.time);
  else if (!cell) content = [h("p", {}, `The channel ${ch.channel} has no cell ${where.cell}.`)];
  else content = cellPage(ch, cell, view.time);
  main.replaceChildren(...content.flat().filter(Boolean));
}

function setLive(on, text) {
  live = on;
  const el = document.getElementById("live");
  el.textContent = text;
  el.className = `pill ${on ? "running" : "off"}`;
}

async function poll() {
  try {
    const r = await fetch("/v1/dashboard", { cache: "no-store" });
    if (r.ok) {
      view = await r.json();
      render();
    }
  } catch {
    setLive(false, "node unreachable");
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/v1/dashboard/feed`);
  ws.onopen = () => setLive(true, "live");
  ws.onmessage = (m) => {
    view = JSON.parse(m.data);
    render();
  };
  ws.onclose = () => {
    setLive(false, "reconnecting");
    setTimeout(connect, 2000);
  };
}

window.addEventListener("hashchange", render);
setInterval(() => {
  if (!live) void poll();
}, 2000);
void poll();
connect();
