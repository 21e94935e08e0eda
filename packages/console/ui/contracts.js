// The Services view's contracts: each service's methods (with their RED figures beside them) and
// the events it publishes and consumes, from the .proto descriptors and the service registry.

import { useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';

const ms = (v) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);
const short = (type) => type.split('.').pop();

function MethodRow({ method, red }) {
  const row = red.find((r) => r.kind === 'rpc' && r.scope === method.service && r.name === method.name);
  return html`<tr data-testid="contract-method" data-method=${method.name}>
    <td><strong>${method.name}</strong>${method.idempotent ? html` <span class="muted">idempotent</span>` : ''}
      <br /><span class="muted">${short(method.requestType)} → ${short(method.responseType)}</span></td>
    <td>${row ? row.count : 0}</td>
    <td class=${row?.errors ? 'error' : ''}>${row ? row.errors : 0}</td>
    <td>${row ? ms(row.meanMs) : '—'}</td>
    <td>${row ? ms(row.p95Ms) : '—'}</td>
    <td><a href=${`#/explorer?target=${encodeURIComponent(`rpc:${method.service}/${method.name}`)}`}>call</a></td>
  </tr>`;
}

/** Each service's contract; `red` holds the RED rows of every process (from /metrics). */
export function ServiceContracts({ red }) {
  const [services, setServices] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    api('/api/contracts').then((b) => setServices(b.services), setError);
  }, []);
  if (error) return html`<p class="muted">Contracts: ${String(error.message ?? error)}</p>`;
  if (!services) return '';
  return html`
    <h2>Contracts</h2>
    ${services.map(
      (s) => html`
      <section class="service" data-testid="contract" data-service=${s.name}>
        <h3>${s.name}</h3>
        <p class="contract-events">
          <span class="muted">publishes</span> ${s.publishes.length ? s.publishes.map((t) => html`<code class="event out">${short(t)}</code>`) : '—'}
          <span class="muted">consumes</span> ${s.consumes.length ? s.consumes.map((t) => html`<code class="event in">${short(t)}</code>`) : '—'}
          ${Object.keys(s.callers).length ? html`<span class="muted">called by</span> ${Object.keys(s.callers).join(', ')}` : ''}
        </p>
        ${
          s.methods.length
            ? html`<table>
          <thead><tr><th>Method</th><th>Calls</th><th>Errors</th><th>Mean</th><th>p95 ≤</th><th></th></tr></thead>
          <tbody>${s.methods.map((m) => html`<${MethodRow} method=${m} red=${red} />`)}</tbody>
        </table>`
            : ''
        }
      </section>`,
    )}
  `;
}
