// The Refront console's page: Preact + htm, loaded from the console itself (no build step, no CDN).

import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';
import { ServiceContracts } from './contracts.js';
import { Explorer } from './explorer.js';
import { Flow } from './flow.js';
import { Sparkline } from './sparkline.js';
import { Workflows } from './workflows.js';

// The console token, when the console has one: from ?token= once, then from this tab's storage.
const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem('refront-console-token', params.get('token'));
  params.delete('token');
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
}

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/traces');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/traces');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.slice(2).split('?')[0].split('/');
}

const PALETTE = [
  '#3056d3',
  '#2e7d32',
  '#ad1457',
  '#ef6c00',
  '#6a1b9a',
  '#00838f',
  '#5d4037',
  '#c62828',
  '#455a64',
];
const colours = new Map();
function colourOf(service) {
  if (!colours.has(service)) colours.set(service, PALETTE[colours.size % PALETTE.length]);
  return colours.get(service);
}

const Badge = ({ service }) =>
  html`<span class="badge" style=${{ background: colourOf(service) }}>${service}</span>`;
const ms = (v) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(2)} ms`);
const time = (v) => new Date(v).toLocaleTimeString();

function Loading({ error }) {
  return error
    ? html`<p class="error" data-testid="error">${String(error.message ?? error)}</p>`
    : html`<p class="muted">Loading…</p>`;
}

function TraceList() {
  const [query, setQuery] = useState({
    q: new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') ?? '',
    tenant: '',
    error: false,
  });
  const [traces, setTraces] = useState();
  const [error, setError] = useState();
  const load = useCallback(() => {
    const p = new URLSearchParams();
    if (query.q) p.set('q', query.q);
    if (query.tenant) p.set('tenant', query.tenant);
    if (query.error) p.set('error', 'true');
    api(`/api/traces?${p}`).then((b) => {
      setTraces(b.traces);
      setError(undefined);
    }, setError);
  }, [query]);
  useEffect(() => {
    void load();
    const t = setInterval(load, 3000);
    return () => clearInterval(t);
  }, [load]);
  return html`
    <h2>Traces</h2>
    <form class="search" onSubmit=${(e) => {
      e.preventDefault();
      load();
    }}>
      <input name="q" placeholder="ticket id, route, text…" value=${query.q} onInput=${(e) => setQuery({ ...query, q: e.currentTarget.value })} />
      <input name="tenant" placeholder="tenant" value=${query.tenant} onInput=${(e) => setQuery({ ...query, tenant: e.currentTarget.value })} />
      <label><input type="checkbox" name="error" checked=${query.error} onChange=${(e) => setQuery({ ...query, error: e.currentTarget.checked })} /> errors only</label>
      <button type="submit">Search</button>
    </form>
    ${
      traces === undefined
        ? html`<${Loading} error=${error} />`
        : html`
      <table data-testid="traces">
        <thead><tr><th>When</th><th>Root</th><th>Services</th><th>Spans</th><th>Duration</th><th>Tenant</th></tr></thead>
        <tbody>
          ${traces.map(
            (t) => html`
            <tr class="clickable" key=${t.traceId} data-trace-id=${t.traceId} onClick=${() => {
              location.hash = `#/traces/${t.traceId}`;
            }}>
              <td>${time(t.startMs)}</td>
              <td>${t.errors > 0 ? html`<span class="error">● </span>` : ''}${t.name}</td>
              <td>${t.services.map((s) => html`<${Badge} service=${s} />`)}</td>
              <td>${t.spanCount}</td>
              <td>${ms(t.durationMs)}</td>
              <td>${t.tenants.join(', ')}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${traces.length === 0 ? html`<p class="muted">No trace matches. Services send theirs to <code>${location.origin}/v1/traces</code> (OTLP/HTTP).</p>` : ''}`
    }
  `;
}

/** The spans in tree order (each after its parent, siblings by start), with their depth. */
function treeOrder(spans) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else roots.push(s);
  }
  const out = [];
  const walk = (s, depth) => {
    out.push({ span: s, depth });
    for (const c of (children.get(s.spanId) ?? []).sort((a, b) => a.startMs - b.startMs)) walk(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.startMs - b.startMs)) walk(r, 0);
  return out;
}

function TraceView({ traceId }) {
  const [trace, setTrace] = useState();
  const [error, setError] = useState();
  const [selected, setSelected] = useState();
  useEffect(() => {
    const load = () =>
      api(`/api/traces/${traceId}`).then((t) => {
        setTrace(t);
        setError(undefined);
      }, setError);
    void load();
    const t = setInterval(load, 3000);
    return () => clearInterval(t);
  }, [traceId]);
  if (!trace) return html`<${Loading} error=${error} />`;
  const rows = treeOrder(trace.spans);
  const start = Math.min(...trace.spans.map((s) => s.startMs));
  const end = Math.max(...trace.spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  const services = [...new Set(trace.spans.map((s) => s.service))];
  const span = trace.spans.find((s) => s.spanId === selected);
  return html`
    <h2>Trace <code data-testid="trace-id">${trace.traceId}</code></h2>
    <p>${trace.spans.length} spans over ${ms(total)} in <span data-testid="trace-services">${services.map((s) => html`<${Badge} service=${s} />`)}</span></p>
    <div class="waterfall" data-testid="waterfall">
      ${rows.map(
        ({ span: s, depth }) => html`
        <div key=${s.spanId} class=${`span-row${s.spanId === selected ? ' selected' : ''}`} data-service=${s.service} data-kind=${s.kind} onClick=${() => setSelected(s.spanId)}>
          <div class="span-name" style=${{ paddingLeft: `${0.4 + depth * 1.1}rem` }} title=${s.name}>
            <${Badge} service=${s.service} />${s.status.code === 'error' ? html`<span class="error">● </span>` : ''}<span class="muted">${s.kind}</span> ${s.name}
            ${s.links.length ? html` <span class="muted">⇠ linked</span>` : ''}
          </div>
          <div class="bar-track">
            <div class="bar" style=${{ left: `${((s.startMs - start) / total) * 100}%`, width: `${(s.durationMs / total) * 100}%`, background: s.status.code === 'error' ? '#c62828' : colourOf(s.service) }}></div>
          </div>
          <div class="dur">${ms(s.durationMs)}</div>
        </div>`,
      )}
    </div>
    ${
      span
        ? html`
      <div class="details" data-testid="span-details">
        <h3>${span.name} <span class="muted">(${span.kind}, ${span.service})</span></h3>
        <dl>
          <dt>span id</dt><dd>${span.spanId}</dd>
          <dt>parent</dt><dd>${span.parentSpanId ?? '—'}</dd>
          <dt>status</dt><dd class=${span.status.code === 'error' ? 'error' : ''}>${span.status.code} ${span.status.message}</dd>
          ${Object.entries(span.attributes).map(([k, v]) => html`<dt>${k}</dt><dd>${JSON.stringify(v)}</dd>`)}
          ${Object.entries(span.resource).map(([k, v]) => html`<dt class="muted">resource ${k}</dt><dd>${JSON.stringify(v)}</dd>`)}
          ${span.links.map((l) => html`<dt>link</dt><dd><a href=${`#/traces/${l.traceId}`}>${l.traceId}/${l.spanId}</a></dd>`)}
          ${span.events.map((e) => html`<dt>event ${time(e.timeMs)}</dt><dd>${e.name} ${JSON.stringify(e.attributes)}</dd>`)}
        </dl>
      </div>`
        : html`<p class="muted">Click a span to see its attributes.</p>`
    }
  `;
}

/** Rate, errors and mean duration per sample interval, as three sparklines. */
const sparks = (points = []) => html`
  <${Sparkline} values=${points.map((p) => p.rate)} title="per second" />
  <${Sparkline} values=${points.map((p) => p.errorRate)} colour="#c62828" title="errors per second" />
  <${Sparkline} values=${points.map((p) => p.meanMs)} colour="#2e7d32" title="mean ms" />`;

function Services() {
  const [services, setServices] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    const load = () =>
      api('/api/services').then((b) => {
        setServices(b.services);
        setError(undefined);
      }, setError);
    void load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, []);
  if (!services) return html`<${Loading} error=${error} />`;
  return html`
    <h2>Services</h2>
    ${services.length === 0 ? html`<p class="muted">No process to read: pass <code>services</code> to createConsole.</p>` : ''}
    ${services.map(
      (s) => html`
      <section class="service" data-testid="service">
        <h3>${s.name} <span class=${s.ready ? 'ok' : 'error'} data-testid="readiness">${s.ready === undefined ? 'unreachable' : s.ready ? 'ready' : 'not ready'}</span>
          <span class="muted"> ${s.opsUrl}</span></h3>
        ${s.error ? html`<p class="error">${s.error}</p>` : ''}
        <table>
          <thead><tr><th>Kind</th><th>Service / group</th><th>Method / event</th><th>Calls</th><th>Errors</th><th>Mean</th><th>p95 ≤</th><th>Last minutes: rate · errors · mean</th></tr></thead>
          <tbody>
            ${s.red.map(
              (
                r,
              ) => html`<tr data-testid="red-row"><td>${r.kind}</td><td>${r.scope}</td><td>${r.name}</td><td>${r.count}</td>
              <td class=${r.errors ? 'error' : ''}>${r.errors}</td><td>${ms(r.meanMs)}</td><td>${ms(r.p95Ms)}</td>
              <td>${sparks(r.history)}</td></tr>`,
            )}
          </tbody>
        </table>
      </section>`,
    )}
    <${ServiceContracts} red=${services.flatMap((s) => s.red)} />
  `;
}

function DeadLetters() {
  const [letters, setLetters] = useState();
  const [error, setError] = useState();
  const [note, setNote] = useState('');
  const load = useCallback(
    () =>
      api('/api/dead-letters').then((b) => {
        setLetters(b.deadLetters);
        setError(undefined);
      }, setError),
    [],
  );
  useEffect(() => {
    void load();
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, [load]);
  const act = (path, what) =>
    api(path, { method: 'POST' }).then(() => {
      setNote(what);
      void load();
    }, setError);
  if (!letters) return html`<${Loading} error=${error} />`;
  const groups = [...new Set(letters.map((d) => d.group))];
  return html`
    <h2>Dead letters</h2>
    ${note ? html`<p class="ok" data-testid="note">${note}</p>` : ''}
    ${error ? html`<p class="error">${String(error.message ?? error)}</p>` : ''}
    ${letters.length === 0 ? html`<p class="muted" data-testid="no-dead-letters">No dead letters.</p>` : ''}
    ${groups.map(
      (g) => html`
      <section class="service" data-testid="dead-letter-group" data-group=${g}>
        <h3>${g} <button onClick=${() => act(`/api/dead-letters/${encodeURIComponent(g)}/replay-all`, `Replayed every dead letter of ${g}`)}>Replay all</button></h3>
        <table>
          <thead><tr><th>Event</th><th>Reason</th><th>Attempts</th><th>When</th><th>Body</th><th></th></tr></thead>
          <tbody>
            ${letters
              .filter((d) => d.group === g)
              .map(
                (d) => html`
              <tr key=${d.eventId} data-testid="dead-letter" data-event-id=${d.eventId}>
                <td>${d.type}<br /><span class="muted">${d.eventId} from ${d.source}${d.tenant ? `, tenant ${d.tenant}` : ''}</span>
                  ${d.traceId ? html`<br /><a href=${`#/traces/${d.traceId}`}>trace</a>` : ''}</td>
                <td><strong data-testid="reason">${d.reason}</strong><br /><span class="error">${d.error}</span></td>
                <td>${d.attempts}</td>
                <td>${time(d.deadLetteredAt)}</td>
                <td><pre>${d.body.json === undefined ? d.body.base64 : JSON.stringify(d.body.json, null, 2)}</pre></td>
                <td>
                  <button data-testid="replay" onClick=${() => act(`/api/dead-letters/${encodeURIComponent(g)}/${encodeURIComponent(d.eventId)}/replay`, `Replayed ${d.eventId}`)}>Replay</button>
                  <button data-testid="discard" onClick=${() => act(`/api/dead-letters/${encodeURIComponent(g)}/${encodeURIComponent(d.eventId)}/discard`, `Discarded ${d.eventId}`)}>Discard</button>
                </td>
              </tr>`,
              )}
          </tbody>
        </table>
      </section>`,
    )}
  `;
}

function App() {
  const [view, id, sub] = useRoute();
  const page =
    view === 'workflows'
      ? html`<${Workflows} service=${id} runId=${sub} />`
      : view === 'services'
        ? html`<${Services} />`
        : view === 'dead-letters'
          ? html`<${DeadLetters} />`
          : view === 'explorer'
            ? html`<${Explorer} />`
            : view === 'flow'
              ? html`<${Flow} />`
              : id
                ? html`<${TraceView} traceId=${id} key=${id} />`
                : html`<${TraceList} />`;
  const link = (to, label) =>
    html`<a href=${`#/${to}`} class=${view === to || (to === 'traces' && !view) ? 'active' : ''}>${label}</a>`;
  return html`
    <header><h1>Refront console</h1><nav>${link('traces', 'Traces')}${link('services', 'Services')}${link('dead-letters', 'Dead letters')}${link('explorer', 'API explorer')}${link('flow', 'Flow')}${link('workflows', 'Workflows')}</nav></header>
    <main>${page}</main>
  `;
}

render(html`<${App} />`, document.getElementById('app'));
