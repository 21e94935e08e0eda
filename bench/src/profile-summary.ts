/**
 * `node --import tsx bench/src/profile-summary.ts <file.cpuprofile>… [--top N]`: the functions with
 * the most self time in V8 CPU profiles written by `node --cpu-prof`, with their share of the
 * samples and where they are, and the share by package (node_modules name, Refront package, or
 * Node internals), to say what limits a lane. Shares are of the busy samples: `(idle)` (the
 * thread waiting in the event loop) is counted apart.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

/** The package a script URL belongs to. */
export function packageOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!.startsWith('@refront/') ? `${nm[1]} (dist)` : nm[1]!;
  const ws = /\/packages\/([^/]+)\//.exec(url);
  if (ws) return `@refront/${ws[1]}`;
  if (url.includes('/examples/refront-demo/')) return '@refront/demo';
  if (url.includes('/bench/')) return 'bench';
  return url.replace(/^file:\/\//, '');
}

/** Self-time lines of one or more profiles. */
export function summarize(profiles: readonly Profile[], top: number): string[] {
  const self = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const hits = new Map<number, number>();
    for (const s of p.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
    for (const [id, count] of hits) {
      const n = byId.get(id);
      if (!n) continue;
      const { functionName, url, lineNumber } = n.callFrame;
      const name = functionName || '(anonymous)';
      if (name === '(idle)') {
        idle += count;
        continue;
      }
      const where = url
        ? `${url.replace(/^.*\/(node_modules|packages|examples|bench)\//, '$1/')}:${lineNumber + 1}`
        : '';
      const key = where ? `${name} ${where}` : name;
      self.set(key, (self.get(key) ?? 0) + count);
      const pkg = ['(program)', '(garbage collector)'].includes(name) ? name : packageOf(url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count);
      total += count;
    }
  }
  const pct = (n: number) => `${((100 * n) / total).toFixed(1)}%`.padStart(6);
  const lines = [
    `${total} busy samples (${((100 * total) / (total + idle)).toFixed(0)}% of all; the rest idle)`,
    'self time by function:',
  ];
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(v)}  ${k}`);
  lines.push('self time by package:');
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${pct(v)}  ${k}`);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
  const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
  const profiles = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Profile);
  console.log(summarize(profiles, top).join('\n'));
}
