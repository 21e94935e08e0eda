// The Flow view: the platform drawn from the contracts (declared callers, events published and
// consumed) and the traces (observed calls and deliveries, with counts and errors), as SVG.
// A layered layout placed here (decision 0134): entry points, services, event types.

import { useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';

const NODE_H = 30;
const COL = { entry: { x: 20, w: 150 }, service: { x: 330, w: 170 }, event: { x: 760, w: 300 } };
const ROW = 48;
const TOP = 30;

/** Where each node sits: entry points (callers nobody calls), services, event types. */
function layout(flow) {
  const callees = new Set(flow.calls.map((c) => c.to));
  const consumers = new Set(flow.events.flatMap((e) => e.consumers.map((c) => c.group)));
  const publishers = new Set(flow.events.flatMap((e) => e.publishers));
  const entry = flow.services.filter((s) => !callees.has(s) && !consumers.has(s) && !publishers.has(s));
  const services = flow.services.filter((s) => !entry.includes(s));
  const at = new Map();
  const place = (names, col, offset) => {
    for (const [i, n] of names.entries()) at.set(n, { ...COL[col], y: TOP + offset + i * ROW });
  };
  place(services, 'service', 0);
  const mid = ((services.length - 1) * ROW) / 2;
  place(entry, 'entry', Math.max(0, mid - ((entry.length - 1) * ROW) / 2));
  place(
    flow.events.map((e) => `event:${e.type}`),
    'event',
    0,
  );
  const rows = Math.max(services.length, flow.events.length, entry.length);
  return { at, height: TOP + rows * ROW + 40 };
}

const count = (o) => (o.count ? `${o.count}${o.errors ? ` · ${o.errors} err` : ''}` : '');

function Label({ x, y, o }) {
  const text = count(o);
  if (!text) return '';
  return html`<text x=${x} y=${y} class=${`edge-label${o.errors ? ' error' : ''}`} text-anchor="middle">${text}</text>`;
}

function CallEdge({ edge, at }) {
  const a = at.get(edge.from);
  const b = at.get(edge.to);
  if (!a || !b) return '';
  const y1 = a.y + NODE_H / 2;
  const y2 = b.y + NODE_H / 2;
  let d;
  let lx;
  let ly;
  if (a.x === b.x) {
    // Between two services of the column: an arc on its left.
    const bulge = 50 + Math.abs(y2 - y1) / 4;
    d = `M${a.x},${y1} C${a.x - bulge},${y1} ${b.x - bulge},${y2} ${b.x - 4},${y2}`;
    lx = a.x - bulge * 0.75;
    ly = (y1 + y2) / 2;
  } else {
    const x1 = a.x + a.w;
    const x2 = b.x - 4;
    d = `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
    lx = (x1 + x2) / 2;
    ly = (y1 + y2) / 2 - 3;
  }
  const cls = `edge call${edge.allowed === undefined ? ' undeclared' : ''}${edge.errors ? ' failing' : ''}`;
  return html`<g data-testid="call-edge" data-from=${edge.from} data-to=${edge.to} data-count=${edge.count} data-errors=${edge.errors}>
    <title>${edge.from} → ${edge.to}: ${edge.allowed === undefined ? 'observed, not declared' : edge.allowed === '*' ? 'every method' : edge.allowed.join(', ')}${edge.count ? `; ${edge.count} calls seen, ${edge.errors} failed` : ''}</title>
    <path d=${d} class=${cls} marker-end="url(#arrow)" />
    <${Label} x=${lx} y=${ly} o=${edge} />
  </g>`;
}

function EventEdges({ flow, at }) {
  return flow.events.map((e) => {
    const ev = at.get(`event:${e.type}`);
    const ey = ev.y + NODE_H / 2;
    const publish = e.publishers.map((p) => {
      const s = at.get(p);
      if (!s) return '';
      const x1 = s.x + s.w;
      const y1 = s.y + NODE_H / 2 - 6;
      return html`<path data-testid="publish-edge" data-type=${e.type} data-publisher=${p} class="edge publish"
        d=${`M${x1},${y1} C${x1 + 120},${y1} ${ev.x - 120},${ey} ${ev.x - 4},${ey}`} marker-end="url(#arrow-publish)" />`;
    });
    const consume = e.consumers.map((c) => {
      const s = at.get(c.group);
      if (!s) return '';
      const x2 = s.x + s.w + 4;
      const y2 = s.y + NODE_H / 2 + 6;
      return html`<g data-testid="event-edge" data-type=${e.type} data-consumer=${c.group} data-count=${c.count} data-errors=${c.errors}>
        <title>${e.type} → ${c.group}${c.declared ? '' : ' (observed, not declared)'}${c.count ? `: ${c.count} handled, ${c.errors} failed` : ''}</title>
        <path class=${`edge consume${c.declared ? '' : ' undeclared'}${c.errors ? ' failing' : ''}`}
          d=${`M${ev.x},${ey + 4} C${ev.x - 140},${ey + 4} ${x2 + 140},${y2} ${x2},${y2}`} marker-end="url(#arrow-consume)" />
        <${Label} x=${(ev.x + 3 * (ev.x - 140) + 3 * (x2 + 140) + x2) / 8} y=${(4 * (ey + 4) + 4 * y2) / 8 - 3} o=${c} />
      </g>`;
    });
    return [publish, consume];
  });
}

function Node({ name, at, kind }) {
  const p = at.get(kind === 'event' ? `event:${name}` : name);
  return html`<g class=${`node ${kind}`} data-testid="flow-node" data-node=${name} data-kind=${kind}>
    <rect x=${p.x} y=${p.y} width=${p.w} height=${NODE_H} rx="6" />
    <text x=${p.x + p.w / 2} y=${p.y + NODE_H / 2 + 4} text-anchor="middle">${kind === 'event' ? name.split('.').slice(-3).join('.') : name}</text>
  </g>`;
}

export function Flow() {
  const [flow, setFlow] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    const load = () =>
      api('/api/flow').then((f) => {
        setFlow(f);
        setError(undefined);
      }, setError);
    void load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, []);
  if (!flow)
    return error
      ? html`<p class="error" data-testid="error">${String(error.message ?? error)}</p>`
      : html`<p class="muted">Loading…</p>`;
  const { at, height } = layout(flow);
  const entries = flow.services.filter((s) => at.get(s)?.x === COL.entry.x);
  const services = flow.services.filter((s) => at.get(s)?.x === COL.service.x);
  return html`
    <h2>Flow</h2>
    <p class="muted">Calls (blue: declared by the callee's <code>callers</code>; orange: only seen in traces) and events
      (green: published, purple: consumed by a group), with what the recent traces show on each edge.</p>
    <svg class="flow" data-testid="flow" viewBox=${`0 0 1100 ${height}`} width="1100" height=${height}>
      <defs>
        ${['arrow', 'arrow-publish', 'arrow-consume'].map(
          (
            id,
          ) => html`<marker id=${id} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" class=${id} /></marker>`,
        )}
      </defs>
      <text x=${COL.entry.x} y="16" class="column">entry points</text>
      <text x=${COL.service.x} y="16" class="column">services</text>
      <text x=${COL.event.x} y="16" class="column">events</text>
      ${flow.calls.map((c) => html`<${CallEdge} edge=${c} at=${at} />`)}
      <${EventEdges} flow=${flow} at=${at} />
      ${entries.map((s) => html`<${Node} name=${s} at=${at} kind="entry" />`)}
      ${services.map((s) => html`<${Node} name=${s} at=${at} kind="service" />`)}
      ${flow.events.map((e) => html`<${Node} name=${e.type} at=${at} kind="event" />`)}
    </svg>
  `;
}
