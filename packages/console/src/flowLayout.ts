import dagre from '@dagrejs/dagre';
import type { FlowView, Observed } from './flow.js';

/** A rectangle in the Flow's SVG coordinates (top-left corner, width, height). */
export interface FlowBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A text the page draws: centred in its box, in the Flow's monospace font, stretched to the box's width. */
export interface FlowText {
  readonly text: string;
  readonly box: FlowBox;
}

/** Where one node sits: a service (`entry` when it only calls) or an event type. */
export interface FlowNodePlacement {
  /** The service's name, or `event:<type>` for an event type. */
  readonly id: string;
  readonly kind: 'entry' | 'service' | 'event';
  /** The service's name or the event's full type. */
  readonly name: string;
  readonly box: FlowBox;
  readonly label: FlowText;
}

/** How one edge is drawn: a call, a publish (service → event type) or a delivery (event type → consumer group). */
export interface FlowEdgePlacement {
  /** `call:<from>→<to>`, `publish:<service>→<type>` or `consume:<type>→<group>`. */
  readonly id: string;
  readonly kind: 'call' | 'publish' | 'consume';
  /** The ids of the nodes it joins, in the direction of the arrow. */
  readonly from: string;
  readonly to: string;
  /** The polyline the layout routed, from `from`'s border to `to`'s; the page smooths it. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** What the traces saw on it (`12 · 1 err`); undefined while they saw nothing. */
  readonly label: FlowText | undefined;
}

/** The Flow view's drawing: every node and edge of a {@link FlowView} with its place. */
export interface FlowLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly FlowNodePlacement[];
  readonly edges: readonly FlowEdgePlacement[];
}

/** The Flow's label font size in px; the page's CSS uses the same (`svg.flow text`). */
export const FLOW_FONT_SIZE = 12;
/** A monospace glyph's advance (0.6 em for DejaVu/Liberation Mono); the page sets `textLength` to the width computed from it. */
const CHAR_WIDTH = FLOW_FONT_SIZE * 0.6;
/** The height a label occupies: the font's ascent plus descent, with a little air. */
const TEXT_HEIGHT = 16;
const NODE_HEIGHT = 30;
const NODE_PADDING = 12;
/** Every edge keeps room for a label of at least this many characters, so traffic does not move the drawing. */
const LABEL_MIN_CHARS = 4;

/** How wide `text` is drawn in the Flow's font. */
export function flowTextWidth(text: string): number {
  return [...text].length * CHAR_WIDTH;
}

/** What an edge's label says: the count the traces saw, and the errors among them. */
export function edgeLabelText(o: Observed): string {
  return o.count ? `${o.count}${o.errors ? ` · ${o.errors} err` : ''}` : '';
}

/** An event type as its node shows it: the last three parts (`tickets.v1.TicketCreated`). */
export function eventLabelText(type: string): string {
  return type.split('.').slice(-3).join('.');
}

/** The box of `text` centred on (cx, cy). */
function textAt(text: string, cx: number, cy: number): FlowText {
  const width = flowTextWidth(text);
  return { text, box: { x: cx - width / 2, y: cy - TEXT_HEIGHT / 2, width, height: TEXT_HEIGHT } };
}

interface NodeSpec {
  readonly id: string;
  readonly kind: FlowNodePlacement['kind'];
  readonly name: string;
  readonly text: string;
}

interface EdgeSpec {
  readonly id: string;
  readonly kind: FlowEdgePlacement['kind'];
  readonly from: string;
  readonly to: string;
  readonly text: string;
}

/** The characters an edge's label slot holds: a multiple of four, so counts can grow a digit without moving the drawing. */
function slotChars(text: string): number {
  return Math.max(LABEL_MIN_CHARS, Math.ceil([...text].length / 4) * 4);
}

interface Geometry {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, FlowBox>;
  readonly edges: ReadonlyMap<string, { points: { x: number; y: number }[]; x: number; y: number }>;
}

/** The dagre layout of the nodes (with their label texts) and edges (with their label slots). */
function geometry(nodes: readonly NodeSpec[], edges: readonly EdgeSpec[]): Geometry {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 10, edgesep: 6, ranksep: 32, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    g.setNode(n.id, { width: flowTextWidth(n.text) + 2 * NODE_PADDING, height: NODE_HEIGHT });
  }
  // Deliveries are ranked from the consumer group to the event type, so an event type sits right of
  // everyone who publishes or consumes it, and the calls alone set how deep the drawing goes.
  const ranked = (e: EdgeSpec) =>
    (e.kind === 'consume' ? [e.to, e.from] : [e.from, e.to]) as [string, string];
  for (const e of edges) {
    const [v, w] = ranked(e);
    g.setEdge(
      v,
      w,
      { width: slotChars(e.text) * CHAR_WIDTH + 4, height: TEXT_HEIGHT + 2, labelpos: 'c' },
      e.id,
    );
  }
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: new Map(
      nodes.map((n) => {
        const { x = 0, y = 0, width, height } = g.node(n.id);
        return [n.id, { x: x - width / 2, y: y - height / 2, width, height }];
      }),
    ),
    edges: new Map(
      edges.map((e) => {
        const [v, w] = ranked(e);
        const placed = g.edge(v, w, e.id);
        const points = (placed.points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y }));
        if (v !== e.from) points.reverse();
        return [e.id, { points, x: placed.x ?? 0, y: placed.y ?? 0 }];
      }),
    ),
  };
}

function specsOf(flow: FlowView): { nodes: NodeSpec[]; edges: EdgeSpec[] } {
  const callees = new Set(flow.calls.map((c) => c.to));
  const inEvents = new Set(flow.events.flatMap((e) => [...e.publishers, ...e.consumers.map((c) => c.group)]));
  const nodes: NodeSpec[] = [
    ...flow.services.map((s) => ({
      id: s,
      kind: callees.has(s) || inEvents.has(s) ? ('service' as const) : ('entry' as const),
      name: s,
      text: s,
    })),
    ...flow.events.map((e) => ({
      id: `event:${e.type}`,
      kind: 'event' as const,
      name: e.type,
      text: eventLabelText(e.type),
    })),
  ];
  const edges: EdgeSpec[] = [
    ...flow.calls.map((c) => ({
      id: `call:${c.from}→${c.to}`,
      kind: 'call' as const,
      from: c.from,
      to: c.to,
      text: edgeLabelText(c),
    })),
    ...flow.events.flatMap((e) => [
      ...[...e.publishers].sort().map((p) => ({
        id: `publish:${p}→${e.type}`,
        kind: 'publish' as const,
        from: p,
        to: `event:${e.type}`,
        text: '',
      })),
      ...[...e.consumers]
        .sort((a, b) => a.group.localeCompare(b.group))
        .map((c) => ({
          id: `consume:${e.type}→${c.group}`,
          kind: 'consume' as const,
          from: `event:${e.type}`,
          to: c.group,
          text: edgeLabelText(c),
        })),
    ]),
  ];
  return { nodes, edges };
}

/**
 * Makes a function that places the Flow view with a layered layout (`@dagrejs/dagre`, decision
 * 0149): left to right, callers before the services they call, each event type to the right of
 * its publishers and its consumer groups; crossings reduced; every edge's label given its own slot in
 * the layering, so no label lands on a node or on another label. Label sizes are computed for the
 * page's monospace font. The drawing depends only on the graph and the label slots (a label's
 * length rounded up to four characters), and the last one is kept: as traffic counts grow, the
 * nodes stay where they are and the layout is not computed again.
 *
 * @example
 * const layout = flowLayouter();
 * const { width, height, nodes, edges } = layout(flowOf(contracts, traces));
 */
export function flowLayouter(): (flow: FlowView) => FlowLayout {
  let last: { key: string; geometry: Geometry } | undefined;
  return (flow) => {
    const { nodes, edges } = specsOf(flow);
    const key = JSON.stringify([
      nodes.map((n) => [n.id, n.text]),
      edges.map((e) => [e.id, e.from, e.to, slotChars(e.text)]),
    ]);
    if (last?.key !== key) last = { key, geometry: geometry(nodes, edges) };
    const placed = last.geometry;
    return {
      width: placed.width,
      height: placed.height,
      nodes: nodes.map((n) => {
        const box = placed.nodes.get(n.id) as FlowBox;
        return {
          id: n.id,
          kind: n.kind,
          name: n.name,
          box,
          label: textAt(n.text, box.x + box.width / 2, box.y + box.height / 2),
        };
      }),
      edges: edges.map((e) => {
        const at = placed.edges.get(e.id) ?? { points: [], x: 0, y: 0 };
        return {
          id: e.id,
          kind: e.kind,
          from: e.from,
          to: e.to,
          points: at.points,
          label: e.text ? textAt(e.text, at.x, at.y) : undefined,
        };
      }),
    };
  };
}
