import { describe, expect, it } from 'vitest';
import { flowOf } from './flow.js';
import { type FlowBox, type FlowLayout, flowLayouter, flowTextWidth } from './flowLayout.js';
import { syntheticPlatform } from './testing/syntheticFlow.js';

/** Whether two boxes share any area (touching edges do not count). */
function overlap(a: FlowBox, b: FlowBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every pair of `boxes` that overlaps, by name. */
function overlaps(boxes: readonly { name: string; box: FlowBox }[]): string[] {
  const found: string[] = [];
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) if (overlap(a.box, b.box)) found.push(`${a.name} × ${b.name}`);
  }
  return found;
}

function labels(layout: FlowLayout) {
  const nodes = layout.nodes.map((n) => ({ name: `node ${n.id}`, box: n.label.box }));
  const edges = layout.edges.flatMap((e) => (e.label ? [{ name: `edge ${e.id}`, box: e.label.box }] : []));
  return { nodes, edges };
}

describe('flowLayouter', () => {
  for (const size of [30, 60]) {
    it(`keeps every label clear of the others with ${size} services, and draws every declared edge`, () => {
      const platform = syntheticPlatform(size);
      const flow = flowOf(platform.services, platform.traces);
      const layout = flowLayouter()(flow);
      const { nodes, edges } = labels(layout);

      expect(layout.nodes.filter((n) => n.kind !== 'event')).toHaveLength(size);
      expect(overlaps(nodes)).toEqual([]);
      // Node boxes too: a label inside its box, no box on another.
      expect(overlaps(layout.nodes.map((n) => ({ name: n.id, box: n.box })))).toEqual([]);
      for (const n of layout.nodes) {
        expect(n.label.box.width).toBe(flowTextWidth(n.label.text));
        expect(n.label.box.x).toBeGreaterThanOrEqual(n.box.x);
        expect(n.label.box.x + n.label.box.width).toBeLessThanOrEqual(n.box.x + n.box.width);
      }
      // Every edge saw traffic, so each carries its label; none lands on a node or another label.
      expect(edges).toHaveLength(layout.edges.filter((e) => e.kind !== 'publish').length);
      expect(overlaps([...nodes, ...edges])).toEqual([]);
      expect(overlaps([...layout.nodes.map((n) => ({ name: n.id, box: n.box })), ...edges])).toEqual([]);

      // Every declared edge is drawn, from its node's border to the other's.
      expect(layout.edges).toHaveLength(platform.edges);
      const at = new Map(layout.nodes.map((n) => [n.id, n.box]));
      const near = (p: { x: number; y: number }, box: FlowBox | undefined) =>
        box !== undefined &&
        p.x >= box.x - 1 &&
        p.x <= box.x + box.width + 1 &&
        p.y >= box.y - 1 &&
        p.y <= box.y + box.height + 1;
      for (const d of platform.services) {
        for (const caller of Object.keys(d.callers ?? {})) {
          const edge = layout.edges.find((e) => e.id === `call:${caller}→${d.name}`);
          expect(edge?.points.length, `call ${caller} → ${d.name}`).toBeGreaterThanOrEqual(2);
          expect(near(edge?.points[0] ?? { x: -1, y: -1 }, at.get(caller))).toBe(true);
          expect(near(edge?.points.at(-1) ?? { x: -1, y: -1 }, at.get(d.name))).toBe(true);
        }
        for (const type of d.publishes) {
          expect(layout.edges.some((e) => e.id === `publish:${d.name}→${type}` && e.points.length >= 2)).toBe(
            true,
          );
        }
        for (const type of d.consumes) {
          expect(layout.edges.some((e) => e.id === `consume:${type}→${d.name}` && e.points.length >= 2)).toBe(
            true,
          );
        }
      }
    });
  }

  it('draws the same platform the same way, whatever the order the declarations come in', () => {
    const platform = syntheticPlatform(30);
    const once = flowLayouter()(flowOf(platform.services, platform.traces));
    const again = flowLayouter()(flowOf([...platform.services].reverse(), [...platform.traces].reverse()));
    expect(again).toEqual(once);
  });

  it('keeps the nodes in place while the counts grow within their label slots', () => {
    const layout = flowLayouter();
    const flow = (count: number) => ({
      services: ['gateway', 'tickets'],
      calls: [{ from: 'gateway', to: 'tickets', allowed: '*' as const, count, errors: 0 }],
      events: [],
    });
    const first = layout(flow(7));
    const later = layout(flow(1234));
    expect(later.nodes).toEqual(first.nodes);
    expect(later.edges[0]?.label?.text).toBe('1234');
    expect(later.edges[0]?.points).toEqual(first.edges[0]?.points);
  });

  it('labels an edge with what the traces saw, and an entry point apart from the services', () => {
    const layout = flowLayouter()({
      services: ['gateway', 'tickets'],
      calls: [{ from: 'gateway', to: 'tickets', allowed: '*', count: 12, errors: 1 }],
      events: [
        {
          type: 'refront.tickets.v1.TicketCreated',
          publishers: ['tickets'],
          consumers: [{ group: 'tickets', declared: true, count: 0, errors: 0 }],
        },
      ],
    });
    expect(layout.nodes.map((n) => [n.id, n.kind, n.label.text])).toEqual([
      ['gateway', 'entry', 'gateway'],
      ['tickets', 'service', 'tickets'],
      ['event:refront.tickets.v1.TicketCreated', 'event', 'tickets.v1.TicketCreated'],
    ]);
    expect(layout.edges.map((e) => [e.id, e.label?.text])).toEqual([
      ['call:gateway→tickets', '12 · 1 err'],
      ['publish:tickets→refront.tickets.v1.TicketCreated', undefined],
      ['consume:refront.tickets.v1.TicketCreated→tickets', undefined],
    ]);
    const [gateway, tickets] = layout.nodes;
    expect(gateway?.box.x).toBeLessThan(tickets?.box.x ?? 0);
  });
});
