// The API explorer: any method of the contracts or route of the gateway, a body made from its
// contract, a tenant and user; the response or the typed error, and the trace the call started.

import { useEffect, useState } from 'preact/hooks';
import { html, request } from './api.js';

const pretty = (v) => JSON.stringify(v, null, 2);

/** Every target the explorer offers, keyed `http:METHOD path` or `rpc:full.Service/Method`. */
function targetsOf(b) {
  const out = new Map();
  for (const r of b.routes) out.set(`http:${r.method} ${r.path}`, { kind: 'http', ...r });
  for (const m of b.methods) out.set(`rpc:${m.target}`, { kind: 'rpc', ...m });
  return out;
}

function Outcome({ outcome }) {
  if (!outcome) return '';
  const e = outcome.error;
  return html`
    <section class="service outcome" data-testid="outcome" data-ok=${String(outcome.ok)}>
      <h3>
        <span class=${outcome.ok ? 'ok' : 'error'} data-testid="http-status">HTTP ${outcome.httpStatus}</span>
        ${outcome.durationMs !== undefined ? html` <span class="muted">${outcome.durationMs.toFixed(1)} ms</span>` : ''}
        ${outcome.traceId ? html` <a data-testid="trace-link" href=${`#/traces/${outcome.traceId}`}>trace ${outcome.traceId}</a>` : ''}
      </h3>
      ${
        e
          ? html`<dl class="typed-error" data-testid="typed-error">
          <dt>reason</dt><dd data-testid="error-reason">${e.reason}</dd>
          <dt>status</dt><dd data-testid="error-status">${e.status}</dd>
          <dt>message</dt><dd>${e.message}</dd>
          ${(e.details?.fieldViolations ?? []).map((v) => html`<dt>${v.field}</dt><dd>${v.description}</dd>`)}
        </dl>`
          : html`<pre data-testid="response">${pretty(outcome.response)}</pre>`
      }
    </section>`;
}

export function Explorer() {
  const [targets, setTargets] = useState();
  const [callable, setCallable] = useState(false);
  const [calls, setCalls] = useState(true);
  const [error, setError] = useState();
  const [key, setKey] = useState(new URLSearchParams(location.hash.split('?')[1] ?? '').get('target') ?? '');
  const [path, setPath] = useState('');
  const [body, setBody] = useState('');
  const [who, setWho] = useState({ tenant: 'acme', user: '', roles: 'admin' });
  const [outcome, setOutcome] = useState();
  const [busy, setBusy] = useState(false);

  const choose = (k, all = targets) => {
    const t = all?.get(k);
    setKey(k);
    setOutcome(undefined);
    if (!t) return;
    setPath(t.kind === 'http' ? t.path : '');
    setBody(t.body === undefined ? '' : pretty(t.body));
  };
  useEffect(() => {
    request('/api/explorer/targets').then(({ ok, body: b }) => {
      if (!ok) return setError(b.error?.message ?? 'no targets');
      const all = targetsOf(b);
      setTargets(all);
      setCallable(b.callable);
      setCalls(b.explorer !== false);
      choose(all.has(key) ? key : (all.keys().next().value ?? ''), all);
    }, setError);
  }, []);
  if (error) return html`<p class="error" data-testid="error">${String(error.message ?? error)}</p>`;
  if (!targets) return html`<p class="muted">Loading…</p>`;
  const target = targets.get(key);
  const call = async (e) => {
    e.preventDefault();
    setBusy(true);
    const payload =
      target.kind === 'http'
        ? { kind: 'http', method: target.method, path, body, ...who }
        : { kind: 'rpc', target: target.target, body, ...who };
    try {
      const res = await request('/api/explorer/call', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      // A body the console refuses before sending (400, 404) is shown as the call's typed error.
      setOutcome(res.ok ? res.body : { ok: false, httpStatus: res.status, error: res.body.error });
    } catch (err) {
      setOutcome({
        ok: false,
        httpStatus: 0,
        error: { reason: 'CONSOLE_UNREACHABLE', status: 'UNAVAILABLE', message: String(err) },
      });
    } finally {
      setBusy(false);
    }
  };
  const routes = [...targets.entries()].filter(([, t]) => t.kind === 'http');
  const owners = [...new Set([...targets.values()].filter((t) => t.kind === 'rpc').map((t) => t.owner))];
  return html`
    <h2>API explorer</h2>
    ${calls ? '' : html`<p class="muted" data-testid="explorer-off">This console is read-only: its API explorer is off, so it lists the targets and calls none.</p>`}
    <form class="explorer" onSubmit=${call}>
      <label>Call <select name="target" data-testid="target" value=${key} onChange=${(e) => choose(e.currentTarget.value)}>
        <optgroup label="Gateway routes (HTTP)">
          ${routes.map(([k, t]) => html`<option value=${k}>${t.method} ${t.path}${t.summary ? ` — ${t.summary}` : ''}</option>`)}
        </optgroup>
        ${owners.map(
          (o) => html`<optgroup label=${`${o} (${callable ? 'method' : 'not callable here'})`}>
          ${[...targets.entries()]
            .filter(([, t]) => t.kind === 'rpc' && t.owner === o)
            .map(
              ([k, t]) =>
                html`<option value=${k} disabled=${!callable}>${t.service.split('.').pop()}/${t.name}</option>`,
            )}
        </optgroup>`,
        )}
      </select></label>
      ${target?.kind === 'http' ? html`<label>Path <input name="path" value=${path} onInput=${(e) => setPath(e.currentTarget.value)} /></label>` : ''}
      <div class="who">
        <label>Tenant <input name="tenant" value=${who.tenant} onInput=${(e) => setWho({ ...who, tenant: e.currentTarget.value })} /></label>
        <label>User <input name="user" placeholder="console@<tenant>.example" value=${who.user} onInput=${(e) => setWho({ ...who, user: e.currentTarget.value })} /></label>
        <label>Roles <input name="roles" value=${who.roles} onInput=${(e) => setWho({ ...who, roles: e.currentTarget.value })} /></label>
      </div>
      <label>Body ${target?.kind === 'rpc' ? html`<span class="muted">${target.requestType}, protobuf JSON</span>` : ''}
        <textarea name="body" rows="12" spellcheck="false" value=${body} onInput=${(e) => setBody(e.currentTarget.value)}></textarea></label>
      <button type="submit" data-testid="call" disabled=${busy || !target || !calls}>${busy ? 'Calling…' : 'Call'}</button>
    </form>
    <${Outcome} outcome=${outcome} />
  `;
}
