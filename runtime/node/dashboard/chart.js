// Throughput (inputs committed per second, bars) and commit latency (ms,
// line) over the last minute, as one SVG. Scales are computed from the data.
import { s } from "./dom.js";

const W = 600, H = 160, L = 40, R = 60, T = 12, B = 22;

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export function activityChart(series) {
  const n = series.length || 1;
  const maxIn = niceMax(Math.max(...series.map((x) => x.inputs + x.rejected), 0));
  const maxLat = niceMax(Math.max(...series.map((x) => x.latencyMs), 0));
  const pw = W - L - R, ph = H - T - B, bw = pw / n;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": "throughput and latency, last minute", class: "chart", "data-testid": "chart" });
  svg.append(
    s("line", { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, class: "axis" }),
    s("text", { x: L - 4, y: T + 8, class: "tick", "text-anchor": "end" }, String(maxIn)),
    s("text", { x: L - 4, y: T + ph, class: "tick", "text-anchor": "end" }, "0"),
    s("text", { x: L + pw + 4, y: T + 8, class: "tick lat" }, `${maxLat} ms`),
    s("text", { x: L, y: H - 4, class: "tick" }, "−60 s"),
    s("text", { x: L + pw, y: H - 4, class: "tick", "text-anchor": "end" }, "now"),
  );
  series.forEach((x, i) => {
    const hIn = (x.inputs / maxIn) * ph, hRej = (x.rejected / maxIn) * ph;
    if (hIn > 0) svg.append(s("rect", { x: L + i * bw + 1, y: T + ph - hIn, width: Math.max(1, bw - 2), height: hIn, class: "bar" }));
    if (hRej > 0) svg.append(s("rect", { x: L + i * bw + 1, y: T + ph - hIn - hRej, width: Math.max(1, bw - 2), height: hRej, class: "bar rej" }));
  });
  const pts = series.map((x, i) => (x.blocks > 0 ? `${L + i * bw + bw / 2},${T + ph - (x.latencyMs / maxLat) * ph}` : null)).filter(Boolean);
  if (pts.length > 1) svg.append(s("polyline", { points: pts.join(" "), class: "latency" }));
  for (const p of pts) {
    const [cx, cy] = p.split(",");
    svg.append(s("circle", { cx, cy, r: 2, class: "latency-dot" }));
  }
  return svg;
}
