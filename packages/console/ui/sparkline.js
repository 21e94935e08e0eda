// A sparkline: a small inline SVG polyline of recent values (no chart library for a few points).

import { html } from './api.js';

/**
 * `values` oldest first, drawn left to right on a fixed box scaled to their maximum; `title`
 * names the series and its last value on hover. One point (or none) draws a level line.
 */
export function Sparkline({ values = [], width = 120, height = 22, colour = '#3056d3', title = '' }) {
  const max = Math.max(...values, 0);
  const n = values.length;
  const x = (i) => (n < 2 ? 0 : (i / (n - 1)) * (width - 2) + 1);
  const y = (v) => (max === 0 ? height - 1 : height - 1 - (v / max) * (height - 3));
  const points =
    n < 2
      ? `1,${y(values[0] ?? 0)} ${width - 1},${y(values[0] ?? 0)}`
      : values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const last = n ? values[n - 1] : 0;
  return html`<svg class="spark" data-testid="sparkline" data-points=${n} data-max=${max} width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${title}>
    <title>${title}${n ? ` (last ${last.toFixed(2)})` : ''}</title>
    <polyline fill="none" stroke=${colour} stroke-width="1.5" points=${points} />
  </svg>`;
}
