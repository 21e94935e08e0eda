// The Workflows view: each service's durable workflow runs (@refront/workflow), and one run's
// step timeline, compensations and failure, read from /api/workflows.

import { useEffect, useState } from 'preact/hooks';
import { api, html } from './api.js';

const STATES = ['running', 'compensating', 'completed', 'compensated', 'failed'];
const STATE_CLASS = {
  running: 'wf-running',
  compensating: 'wf-compensating',
  completed: 'ok',
  compensated: 'wf-compensated',
  failed: 'error',
};
const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');
const dur = (v) => (v === null || v === undefined ? '—' : v >= 100 ? `${v.toFixed(0)} ms` : `${v} ms`);
const State = ({ state }) =>
  html`<span class=${`wf-state ${STATE_CLASS[state] ?? ''}`} data-testid="run-state">${state}</span>`;
const runLink = (service, id) => `#/workflows/${encodeURIComponent(service)}/${encodeURIComponent(id)}`;

/** Polls `load` every `everyMs` while mounted: `[value, error, set]` (`set` shows a fresher value at once). */
function usePoll(load, everyMs, deps) {
  const [value, setValue] = useState();
  const [error, setError] = useState();
  useEffect(() => {
    const tick = () =>
      load().then((v) => {
        setValue(v);
        setError(undefined);
      }, setError);
    void tick();
    const t = setInterval(tick, everyMs);
    return () => clearInterval(t);
  }, deps);
  return [value, error, setValue];
}

const Problem = ({ error }) =>
  error
    ? html`<p class="error" data-testid="error">${String(error.message ?? error)}</p>`
    : html`<p class="muted">Loading…</p>`;

function RunList() {
  const [filter, setFilter] = useState({ workflow: '', state: '' });
  const [services, error] = usePoll(
    () => {
      const p = new URLSearchParams();
      if (filter.workflow) p.set('workflow', filter.workflow);
      if (filter.state) p.set('state', filter.state);
      return api(`/api/workflows?${p}`).then((b) => b.services);
    },
    3000,
    [filter.workflow, filter.state],
  );
  return html`
    <h2>Workflows</h2>
    <form class="search" onSubmit=${(e) => e.preventDefault()}>
      <input name="workflow" placeholder="workflow name" value=${filter.workflow} onChange=${(e) => setFilter({ ...filter, workflow: e.currentTarget.value })} />
      <select name="state" value=${filter.state} onChange=${(e) => setFilter({ ...filter, state: e.currentTarget.value })}>
        <option value="">any state</option>
        ${STATES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    </form>
    ${services === undefined ? html`<${Problem} error=${error} />` : ''}
    ${services?.length === 0 ? html`<p class="muted">No workflow source: pass <code>workflows</code> to createConsole.</p>` : ''}
    ${(services ?? []).map(
      (s) => html`
      <section class="service" data-testid="workflow-service" data-service=${s.service}>
        <h3>${s.service}</h3>
        ${s.error ? html`<p class="error">${s.error}</p>` : ''}
        ${s.runs.length === 0 && !s.error ? html`<p class="muted">No runs.</p>` : ''}
        ${
          s.runs.length > 0
            ? html`<table>
          <thead><tr><th>Started</th><th>Workflow</th><th>Run</th><th>State</th><th>Steps</th><th>Tenant</th><th>Runner</th><th>Failure</th><th>Trace</th></tr></thead>
          <tbody>
            ${s.runs.map(
              (r) => html`
              <tr class="clickable" key=${r.id} data-testid="workflow-run" data-run-id=${r.id} data-workflow=${r.workflow} onClick=${() => {
                location.hash = runLink(s.service, r.id);
              }}>
                <td>${when(r.createdAt)}</td>
                <td>${r.workflow} <span class="muted">v${r.version}</span></td>
                <td><code>${r.id.slice(0, 8)}</code></td>
                <td><${State} state=${r.state} />${r.deadCompensations ? html` <span class="error">${r.deadCompensations} dead</span>` : ''}</td>
                <td>${r.stepCount}</td>
                <td>${r.tenant ?? '—'}</td>
                <td class="muted">${r.leaseOwner ?? ''}</td>
                <td class="error">${r.error ? `${r.error.step ?? ''} ${r.error.reason}` : ''}</td>
                <td>${r.traceId ? html`<a href=${`#/traces/${r.traceId}`} onClick=${(e) => e.stopPropagation()}>trace</a>` : ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>`
            : ''
        }
      </section>`,
    )}
  `;
}

/** Each step as a bar on the run's time axis: from the run's start to its last journaled step. */
function Timeline({ run }) {
  const t0 = Date.parse(run.createdAt);
  const ends = run.steps.map((s) => Date.parse(s.completedAt));
  const total = Math.max((ends.length ? Math.max(...ends) : t0) - t0, 1);
  const rows = run.steps.map((s) => {
    const end = Date.parse(s.completedAt);
    const start = s.startedAt ? Date.parse(s.startedAt) : end;
    return { ...s, left: ((start - t0) / total) * 100, width: ((end - start) / total) * 100 };
  });
  return html`
    <div class="waterfall" data-testid="step-timeline">
      ${rows.map(
        (s) => html`
        <div class="span-row" key=${s.seq} data-testid="step" data-step=${s.name}>
          <div class="span-name" title=${JSON.stringify(s.output)}>
            <span class="muted">${s.seq}</span> ${s.name}
            ${s.attempts > 1 ? html` <span class="wf-compensating">${s.attempts} attempts</span>` : ''}
          </div>
          <div class="bar-track"><div class="bar" style=${{ left: `${s.left}%`, width: `${s.width}%`, background: '#2e7d32' }}></div></div>
          <div class="dur">${dur(s.durationMs)}</div>
        </div>`,
      )}
      ${
        run.error
          ? html`<div class="span-row" data-testid="failed-step">
          <div class="span-name error">✕ ${run.error.step ?? '(run)'}</div>
          <div class="error">${run.error.status} ${run.error.reason}: ${run.error.message}</div><div></div>
        </div>`
          : ''
      }
    </div>`;
}

/**
 * The operator's actions on a run, each after a confirmation: Cancel on a running run (it stops
 * at its next step and compensates), Retry compensations on a failed one (once their cause is
 * fixed). Each answers the run as it is after the request.
 */
function RunActions({ service, run, actions, onRun }) {
  const [note, setNote] = useState('');
  const [error, setError] = useState();
  const path = `/api/workflows/${encodeURIComponent(service)}/runs/${encodeURIComponent(run.id)}`;
  const act = (action, body, what) =>
    api(`${path}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((b) => {
      setError(undefined);
      setNote(what);
      onRun(b);
    }, setError);
  const cancel = () => {
    const reason = window.prompt(
      `Cancel run ${run.id}? It stops at its next step and undoes what it did. Reason:`,
      '',
    );
    if (reason !== null) void act('cancel', reason ? { reason } : {}, 'Cancel requested');
  };
  const retry = () => {
    if (window.confirm(`Retry the dead compensations of run ${run.id}? Fix their cause first.`))
      void act('retry-compensations', {}, 'Compensations retried');
  };
  return html`
    <div class="actions">
      ${actions?.cancel && run.state === 'running' && !run.cancelRequestedAt ? html`<button data-testid="cancel-run" onClick=${cancel}>Cancel</button>` : ''}
      ${actions?.retryCompensations && run.state === 'failed' ? html`<button data-testid="retry-compensations" onClick=${retry}>Retry compensations</button>` : ''}
      ${run.cancelRequestedAt ? html`<p class="wf-compensating" data-testid="cancel-requested">Cancel requested ${when(run.cancelRequestedAt)}${run.cancelReason ? `: ${run.cancelReason}` : ''}</p>` : ''}
      ${note ? html`<p class="ok" data-testid="action-note">${note}</p>` : ''}
      ${error ? html`<p class="error" data-testid="action-error">${String(error.message ?? error)}</p>` : ''}
    </div>`;
}

function RunView({ service, runId }) {
  const [answer, error, setAnswer] = usePoll(
    () => api(`/api/workflows/${encodeURIComponent(service)}/runs/${encodeURIComponent(runId)}`),
    2000,
    [service, runId],
  );
  const run = answer?.run;
  if (!run) return html`<${Problem} error=${error} />`;
  const dead = run.compensations.filter((c) => c.state === 'dead');
  return html`
    <p><a href="#/workflows">← Workflows</a></p>
    <h2>${run.workflow} <span class="muted">v${run.version}</span> <${State} state=${run.state} /></h2>
    <${RunActions} service=${service} run=${run} actions=${answer.actions} onRun=${setAnswer} />
    <div class="details"><dl>
      <dt>run</dt><dd data-testid="run-id">${run.id}</dd>
      <dt>service</dt><dd>${service}</dd>
      <dt>tenant</dt><dd>${run.tenant ?? '—'}</dd>
      <dt>started</dt><dd>${new Date(run.createdAt).toLocaleString()}</dd>
      <dt>updated</dt><dd>${new Date(run.updatedAt).toLocaleString()}</dd>
      <dt>lease</dt><dd>${run.leaseOwner ? `${run.leaseOwner} until ${when(run.leaseUntil)}` : 'none (not executing)'}</dd>
      <dt>trace</dt><dd>${run.traceId ? html`<a data-testid="run-trace" href=${`#/traces/${run.traceId}`}>${run.traceId}</a>` : '—'}</dd>
      <dt>input</dt><dd>${JSON.stringify(run.input)}</dd>
      <dt>output</dt><dd>${JSON.stringify(run.output)}</dd>
    </dl></div>
    <h3>Steps</h3>
    <${Timeline} run=${run} />
    <h3>Compensations</h3>
    ${run.compensations.length === 0 ? html`<p class="muted">None registered.</p>` : ''}
    ${
      run.compensations.length > 0
        ? html`<table data-testid="compensations">
      <thead><tr><th>#</th><th>Compensation</th><th>Undoes</th><th>State</th><th>Attempts</th><th>Last error</th></tr></thead>
      <tbody>${run.compensations.map(
        (
          c,
        ) => html`<tr data-testid="compensation" data-state=${c.state}><td>${c.seq}</td><td>${c.name}</td><td>${c.step}</td>
          <td class=${c.state === 'dead' ? 'error' : c.state === 'done' ? 'ok' : ''}>${c.state === 'dead' ? 'dead-lettered' : c.state}</td>
          <td>${c.attempts}</td><td class=${c.state === 'done' ? 'muted' : 'error'}>${c.lastError ?? ''}</td></tr>`,
      )}</tbody>
    </table>`
        : ''
    }
    ${dead.length ? html`<p class="error" data-testid="dead-compensations">${dead.length} compensation(s) dead-lettered: the run needs an operator.</p>` : ''}
  `;
}

/** `#/workflows` lists the runs; `#/workflows/<service>/<run id>` shows one. */
export function Workflows({ service, runId }) {
  return service && runId
    ? html`<${RunView} service=${decodeURIComponent(service)} runId=${decodeURIComponent(runId)} key=${runId} />`
    : html`<${RunList} />`;
}
