// The Flow view: the platform drawn from the contracts (declared callers, events published and
// consumed) and the traces (observed calls and deliveries, with counts and errors), as SVG.
// The console places it (`layout` of /api/flow, a layered layout: decision 0149); the page draws
// it, each text centred in the box the layout computed for it, and highlights one node's edges.

import { useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';

/** A smooth path through the layout's polyline: quadratic curves through the midpoints. */
function pathOf(points) {
  if (points.length < 2) return '';
  const [first, ...rest] = points;
  let d = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i];
    const q = rest[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = rest[rest.length - 1];
  return `${d} L${last.x},${last.y}`;
}

/** A text in the box the layout computed: centred, stretched to exactly the box's width. */
function Text({ label, cls }) {
  const { box, text } = label;
  return html`<text x=${box.x + box.width / 2} y=${box.y + box.height / 2} class=${cls} text-anchor="middle"
    dominant-baseline="central" textLength=${box.width} lengthAdjust="spacingAndGlyphs">${text}</text>`;
}

const count = (o) => (o.count ? `; ${o.count} seen, ${o.errors} failed` : '');

function Edge({ edge, flow, focus }) {
  const on = focus === undefined ? '' : edge.from === focus || edge.to === focus ? ' on' : ' off';
  const label = (o) =>
    edge.label ? html`<${Text} label=${edge.label} cls=${`edge-label${o.errors ? ' error' : ''}`} />` : '';
  const path = (cls, marker) =>
    html`<path d=${pathOf(edge.points)} class=${cls} marker-end=${`url(#${marker})`} />`;
  if (edge.kind === 'call') {
    const c = flow.calls.find((x) => `call:${x.from}→${x.to}` === edge.id);
    if (!c) return '';
    const allowed =
      c.allowed === undefined
        ? 'observed, not declared'
        : c.allowed === '*'
          ? 'every method'
          : c.allowed.join(', ');
    return html`<g data-testid="call-edge" class=${`edge-group${on}`} data-from=${c.from} data-to=${c.to} data-count=${c.count} data-errors=${c.errors}>
      <title>${c.from} → ${c.to}: ${allowed}${count(c)}</title>
      ${path(`edge call${c.allowed === undefined ? ' undeclared' : ''}${c.errors ? ' failing' : ''}`, 'arrow')}
      ${label(c)}
    </g>`;
  }
  const type = edge.kind === 'publish' ? edge.to.slice('event:'.length) : edge.from.slice('event:'.length);
  if (edge.kind === 'publish') {
    return html`<g data-testid="publish-edge" class=${`edge-group${on}`} data-type=${type} data-publisher=${edge.from}>
      <title>${edge.from} publishes ${type}</title>
      ${path('edge publish', 'arrow-publish')}
    </g>`;
  }
  const c = flow.events.find((e) => e.type === type)?.consumers.find((x) => x.group === edge.to);
  if (!c) return '';
  return html`<g data-testid="event-edge" class=${`edge-group${on}`} data-type=${type} data-consumer=${c.group} data-count=${c.count} data-errors=${c.errors}>
    <title>${type} → ${c.group}${c.declared ? '' : ' (observed, not declared)'}${count(c)}</title>
    ${path(`edge consume${c.declared ? '' : ' undeclared'}${c.errors ? ' failing' : ''}`, 'arrow-consume')}
    ${label(c)}
  </g>`;
}

function Node({ node, focus, near, onFocus }) {
  const state = focus === undefined ? '' : node.id === focus || near.has(node.id) ? ' on' : ' off';
  const { box } = node;
  return html`<g class=${`node ${node.kind}${state}`} data-testid="flow-node" data-node=${node.name} data-kind=${node.kind}
      onClick=${() => onFocus(node.id === focus ? undefined : node.id)}>
    <title>${node.name}</title>
    <rect x=${box.x} y=${box.y} width=${box.width} height=${box.height} rx="6" />
    <${Text} label=${node.label} cls="node-label" />
  </g>`;
}

export function Flow() {
  const [flow, setFlow] = useState();
  const [error, setError] = useState();
  const [focus, setFocus] = useState();
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
  const { layout } = flow;
  const near = new Set(
    layout.edges.flatMap((e) => (e.from === focus ? [e.to] : e.to === focus ? [e.from] : [])),
  );
  return html`
    <h2>Flow</h2>
    <p class="muted">Left to right: who calls whom (blue: declared by the callee's <code>callers</code>; orange: only
      seen in traces), and each event type right of its publishers (green) and of its consumer groups (purple, dashed), with
      what the recent traces show on each edge. Click a service or an event to follow its edges.</p>
    <div class="flow-frame">
      <svg class=${`flow${focus === undefined ? '' : ' focused'}`} data-testid="flow" viewBox=${`0 0 ${layout.width} ${layout.height}`}
        width=${layout.width} height=${layout.height}>
        <defs>
          ${['arrow', 'arrow-publish', 'arrow-consume'].map(
            (
              id,
            ) => html`<marker id=${id} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class=${id} /></marker>`,
          )}
        </defs>
        ${layout.edges.map((e) => html`<${Edge} key=${e.id} edge=${e} flow=${flow} focus=${focus} />`)}
        ${layout.nodes.map((n) => html`<${Node} key=${n.id} node=${n} focus=${focus} near=${near} onFocus=${setFocus} />`)}
      </svg>
    </div>
  `;
}
