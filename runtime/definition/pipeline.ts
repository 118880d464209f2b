/**
 * The cell pipeline: emits form a directed graph that must be acyclic. Finds
 * every cycle (one problem per strongly connected component, naming the cells
 * in order) and a deterministic topological order (sources first, ties by name).
 */
import type { DocPath, Reporter } from "./reporter.js";

export interface PipelineEdge {
  from: string;
  to: string;
  /** Where the emit's `to` is written, for the cycle problem. */
  path: DocPath;
}

export interface Pipeline {
  order: string[];
  upstream: Map<string, string[]>;
  downstream: Map<string, string[]>;
}

/** Returns undefined (after reporting DEFINITION_PIPELINE_CYCLE) when the emits form a cycle. */
export function analysePipeline(names: readonly string[], edges: readonly PipelineEdge[], reporter: Reporter): Pipeline | undefined {
  const sorted = [...names].sort(byCodeUnit);
  const out = new Map<string, Set<string>>(sorted.map((n) => [n, new Set()]));
  const inc = new Map<string, Set<string>>(sorted.map((n) => [n, new Set()]));
  for (const e of edges) {
    out.get(e.from)?.add(e.to);
    inc.get(e.to)?.add(e.from);
  }

  // The first emit written for each (from, to): where a cycle's closing edge is reported.
  const firstEdge = new Map<string, PipelineEdge>();
  for (const e of edges) {
    const k = `${e.from}\u0000${e.to}`;
    if (!firstEdge.has(k)) firstEdge.set(k, e);
  }
  let acyclic = true;
  for (const component of stronglyConnected(sorted, out)) {
    if (component.length < 2) continue;
    acyclic = false;
    const members = new Set(component);
    const start = [...component].sort(byCodeUnit)[0];
    const cycle = findCycle(start, members, out);
    const last = cycle[cycle.length - 2];
    const closing = firstEdge.get(`${last}\u0000${start}`);
    reporter.error(
      "DEFINITION_PIPELINE_CYCLE",
      closing?.path ?? ["cells", start],
      `cells ${cycle.join(" -> ")} form a cycle; outputs would flow around it forever`,
      `remove one emit of the cycle (e.g. the emit from "${last}" to "${start}")`,
    );
  }
  if (!acyclic) return undefined;

  // Kahn's algorithm taking the smallest ready name first: the order is a pure
  // function of the graph. A heap, not a list sorted at every step (quadratic
  // in the number of cells: 5,000 cells without emits spent most of their load there).
  const indegree = new Map(sorted.map((n) => [n, inc.get(n)?.size ?? 0]));
  const ready = new NameHeap(sorted.filter((n) => indegree.get(n) === 0));
  const order: string[] = [];
  while (ready.size > 0) {
    const n = ready.pop();
    order.push(n);
    for (const m of out.get(n) ?? []) {
      const d = (indegree.get(m) ?? 0) - 1;
      indegree.set(m, d);
      if (d === 0) ready.push(m);
    }
  }
  const list = (m: Map<string, Set<string>>) => new Map([...m].map(([k, v]) => [k, [...v].sort(byCodeUnit)]));
  return { order, upstream: list(inc), downstream: list(out) };
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A binary min-heap of names in code-unit order. */
class NameHeap {
  private readonly items: string[];

  /** `sorted` must be in code-unit order (a sorted array is a heap). */
  constructor(sorted: string[]) {
    this.items = sorted;
  }

  get size(): number {
    return this.items.length;
  }

  push(name: string): void {
    const a = this.items;
    a.push(name);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): string {
    const a = this.items;
    const top = a[0];
    const last = a.pop() as string;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Tarjan's algorithm, iterative so a long pipeline cannot overflow the stack. */
function stronglyConnected(nodes: readonly string[], out: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; edges: string[]; i: number }> = [];
    const enter = (n: string) => {
      index.set(n, next);
      low.set(n, next);
      next++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, edges: [...(out.get(n) ?? [])].sort(byCodeUnit), i: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      if (top.i < top.edges.length) {
        const m = top.edges[top.i++];
        if (!index.has(m)) enter(m);
        else if (onStack.has(m)) low.set(top.node, Math.min(low.get(top.node) as number, index.get(m) as number));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent) as number, low.get(top.node) as number));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let m: string;
        do {
          m = stack.pop() as string;
          onStack.delete(m);
          component.push(m);
        } while (m !== top.node);
        result.push(component);
      }
    }
  }
  return result;
}

/** A cycle through `start` inside one component: [start, ..., start]. */
function findCycle(start: string, members: Set<string>, out: Map<string, Set<string>>): string[] {
  // Breadth-first from start, so the named cycle is a shortest one.
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const n = queue[head];
    for (const m of [...(out.get(n) ?? [])].sort(byCodeUnit)) {
      if (!members.has(m)) continue;
      if (m === start) {
        const path = [n];
        let p = n;
        while (p !== start) {
          p = parent.get(p) as string;
          path.unshift(p);
        }
        return [...path, start];
      }
      if (!parent.has(m)) {
        parent.set(m, n);
        queue.push(m);
      }
    }
  }
  return [start, start];
}
