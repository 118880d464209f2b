// The pipeline of a channel's cells as an SVG graph. Layout is computed
// here (no library): a column per pipeline depth (sources left), cells of a
// column stacked, edges as curves from a cell's right side to each
// downstream cell's left side. Each cell shows its group and height.
import { s, route } from "./dom.js";

const W = 170, H = 64, GX = 70, GY = 22, PAD = 10;

/** Positions by cell name: column = depth, row = order within the column. */
export function layout(cells) {
  const cols = new Map();
  for (const c of cells) {
    if (!cols.has(c.depth)) cols.set(c.depth, []);
    cols.get(c.depth).push(c.name);
  }
  const pos = new Map();
  let rows = 0;
  for (const [depth, names] of cols) {
    names.forEach((n, i) => pos.set(n, { x: PAD + depth * (W + GX), y: PAD + i * (H + GY) }));
    rows = Math.max(rows, names.length);
  }
  const width = PAD * 2 + cols.size * W + Math.max(0, cols.size - 1) * GX;
  const height = PAD * 2 + rows * H + Math.max(0, rows - 1) * GY;
  return { pos, width, height };
}

export function pipelineGraph(channel) {
  const { pos, width, height } = layout(channel.cells);
  const groups = new Map(channel.groups.map((g) => [g.name, g]));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `pipeline of ${channel.channel}`, class: "graph", "data-testid": "pipeline" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }))));
  for (const c of channel.cells) {
    const a = pos.get(c.name);
    for (const d of c.downstream) {
      const b = pos.get(d);
      if (!b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      svg.append(s("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, class: "edge", "marker-end": "url(#arrow)" }));
    }
  }
  for (const c of channel.cells) {
    const p = pos.get(c.name);
    const g = groups.get(c.group);
    const online = g ? g.validators.filter((v) => v.online).length : 0;
    const ok = g ? online >= g.threshold.quorum : false;
    const link = s("a", { href: route("channel", channel.channel, "cell", c.name), "data-testid": `cell-node-${c.name}` });
    link.append(
      s("rect", { x: p.x, y: p.y, width: W, height: H, rx: 8, class: `cell ${ok ? "ok" : "down"} ${c.hosted ? "hosted" : ""}` }),
      s("text", { x: p.x + 10, y: p.y + 20, class: "cell-name" }, c.name + (c.code ? " ⚙" : "")),
      s("text", { x: p.x + 10, y: p.y + 38, class: "cell-meta" }, `${c.group} · ${g ? g.threshold.quorum : "?"} of ${g ? g.threshold.size : "?"}`),
      s("text", { x: p.x + 10, y: p.y + 54, class: "cell-meta" }, c.height === null ? "not hosted here" : `height ${c.height}`),
      s("title", {}, `${c.name}: group ${c.group}, ${online} of ${g ? g.validators.length : "?"} validators online`),
    );
    svg.append(link);
  }
  return svg;
}
