import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'amqplib';
import pg from 'pg';
import { redact } from './dlq.js';

/** The outcome of one check: ok, a warning (works, but look), or a failure (with what to do). */
export interface DoctorCheck {
  /** What was checked (`node`, `database`, `broker`, `consul`, `certificates`). */
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  /** What was found. */
  readonly detail: string;
  /** What to do, for a warning or a failure. */
  readonly fix?: string;
}

/** What {@link doctor} checks; unset values are read from `env`. */
export interface DoctorOptions {
  /** The environment: `DATABASE_URL`, `AMQP_URL`, `CONSUL_HTTP_ADDR`, `MTLS`, `TLS_CA_FILE`, `TLS_CERT_FILE`, `TLS_KEY_FILE`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Lowest Node.js version Refront runs on. @default '20.19.0' */
  readonly minNode?: string;
  /** Per-server connect timeout, ms. @default 3000 */
  readonly timeoutMs?: number;
  /** Certificates that expire sooner than this many days are a warning. @default 14 */
  readonly expiryWarningDays?: number;
}

/**
 * Checks what a Refront service needs around it: the Node.js version, PostgreSQL
 * (`DATABASE_URL`), RabbitMQ (`AMQP_URL`), Consul (`CONSUL_HTTP_ADDR`, when set) and the mutual
 * TLS files (`TLS_CA_FILE`, `TLS_CERT_FILE`, `TLS_KEY_FILE`: present, valid now, the certificate
 * issued by the CA and matching the key). Each check connects for real; a failure says what to fix.
 *
 * @example
 * const checks = await doctor({ env: process.env });
 * process.exitCode = checks.some((c) => c.status === 'fail') ? 1 : 0;
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 3_000;
  return [
    checkNode(process.versions.node, options.minNode ?? '20.19.0'),
    await checkDatabase(env.DATABASE_URL, timeoutMs),
    await checkBroker(env.AMQP_URL, timeoutMs),
    await checkConsul(env.CONSUL_HTTP_ADDR, env.CONSUL_HTTP_TOKEN, timeoutMs),
    checkCertificates(env, options.expiryWarningDays ?? 14),
  ];
}

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** The Node.js version against the lowest one Refront supports. */
export function checkNode(version: string, min: string): DoctorCheck {
  return versionAtLeast(version, min)
    ? { name: 'node', status: 'ok', detail: `Node.js ${version}` }
    : {
        name: 'node',
        status: 'fail',
        detail: `Node.js ${version} is older than ${min}`,
        fix: `install Node.js ${min} or newer (https://nodejs.org, or nvm install 22)`,
      };
}

async function checkDatabase(url: string | undefined, timeoutMs: number): Promise<DoctorCheck> {
  if (!url)
    return {
      name: 'database',
      status: 'warn',
      detail:
        'DATABASE_URL is not set: the monolith runs on an embedded PGlite, a service of its own cannot start',
      fix: 'set DATABASE_URL=postgres://user:password@host:5432/db for the distributed topology',
    };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return { name: 'database', status: 'ok', detail: `PostgreSQL ${rows[0]?.v} at ${redact(url)}` };
  } catch (e: unknown) {
    return {
      name: 'database',
      status: 'fail',
      detail: `PostgreSQL at ${redact(url)}: ${describe(e)}`,
      fix: 'start PostgreSQL (Debian: pg_ctlcluster 15 main start; Docker: docker run -p 5432:5432 postgres) or correct DATABASE_URL (host, port, user, password, database)',
    };
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkBroker(url: string | undefined, timeoutMs: number): Promise<DoctorCheck> {
  if (!url)
    return {
      name: 'broker',
      status: 'warn',
      detail:
        'AMQP_URL is not set: the monolith uses the in-process event bus, a service of its own cannot start',
      fix: 'set AMQP_URL=amqp://user:password@host:5672 for the distributed topology',
    };
  try {
    const model = await connect(url, { timeout: timeoutMs });
    model.on('error', () => {});
    const server = model.connection.serverProperties;
    await model.close();
    return {
      name: 'broker',
      status: 'ok',
      detail: `${server.product ?? 'AMQP broker'} ${server.version ?? ''} at ${redact(url)}`.replace(
        '  ',
        ' ',
      ),
    };
  } catch (e: unknown) {
    const refused = /ACCESS_REFUSED|403/.test(describe(e));
    return {
      name: 'broker',
      status: 'fail',
      detail: `RabbitMQ at ${redact(url)}: ${describe(e)}`,
      fix: refused
        ? 'the broker refused the user or password: correct AMQP_URL, or create the user (rabbitmqctl add_user; set_permissions)'
        : 'start RabbitMQ (rabbitmq-server -detached; Docker: docker run -p 5672:5672 rabbitmq:4) or correct AMQP_URL (host, port, vhost)',
    };
  }
}

async function checkConsul(
  address: string | undefined,
  token: string | undefined,
  timeoutMs: number,
): Promise<DoctorCheck> {
  if (!address)
    return {
      name: 'consul',
      status: 'skip',
      detail: 'CONSUL_HTTP_ADDR is not set: discovery uses REFRONT_ENDPOINTS or REFRONT_DNS',
    };
  const base = /^https?:\/\//.test(address) ? address : `http://${address}`;
  try {
    const res = await fetch(new URL('/v1/status/leader', base), {
      signal: AbortSignal.timeout(timeoutMs),
      headers: token ? { 'X-Consul-Token': token } : {},
    });
    const leader = res.ok ? ((await res.json()) as unknown) : undefined;
    if (typeof leader === 'string' && leader !== '')
      return { name: 'consul', status: 'ok', detail: `Consul at ${base}, leader ${leader}` };
    return {
      name: 'consul',
      status: 'fail',
      detail: `Consul at ${base} answered ${res.status} ${res.ok ? 'without a leader' : res.statusText}`,
      fix:
        res.status === 403
          ? 'set CONSUL_HTTP_TOKEN to a token that may read'
          : 'wait for the cluster to elect a leader, or check its servers',
    };
  } catch (e: unknown) {
    return {
      name: 'consul',
      status: 'fail',
      detail: `Consul at ${base}: ${describe(e)}`,
      fix: 'start the Consul agent (consul agent -dev) or correct CONSUL_HTTP_ADDR, or unset it to use REFRONT_ENDPOINTS',
    };
  }
}

/** The mutual TLS files: present, within their validity, the certificate issued by the CA and matching its key. */
export function checkCertificates(
  env: Readonly<Record<string, string | undefined>>,
  expiryWarningDays: number,
  now: Date = new Date(),
): DoctorCheck {
  const name = 'certificates';
  const vars = ['TLS_CA_FILE', 'TLS_CERT_FILE', 'TLS_KEY_FILE'] as const;
  if (env.MTLS === 'off')
    return {
      name,
      status: 'warn',
      detail: 'MTLS=off: calls between services are plaintext and unauthenticated',
      fix: 'for development only: unset MTLS in production',
    };
  const unset = vars.filter((v) => !env[v]);
  if (unset.length === vars.length)
    return {
      name,
      status: 'warn',
      detail:
        'TLS_CA_FILE, TLS_CERT_FILE and TLS_KEY_FILE are not set: a service of its own refuses to start without them (MTLS=on)',
      fix: 'make development certificates (npx refront-dev-certs) and set the three variables, or set MTLS=off for development',
    };
  const problems: string[] = [];
  if (unset.length > 0) problems.push(`${unset.join(', ')} not set`);
  const missing = vars.filter((v) => env[v] && !existsSync(env[v] as string));
  for (const v of missing) problems.push(`${v}=${env[v]} does not exist`);
  if (problems.length > 0)
    return {
      name,
      status: 'fail',
      detail: problems.join('; '),
      fix: 'set all three variables to existing PEM files',
    };
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(env.TLS_CA_FILE as string));
    cert = new X509Certificate(readFileSync(env.TLS_CERT_FILE as string));
  } catch (e: unknown) {
    return {
      name,
      status: 'fail',
      detail: `not a PEM certificate: ${describe(e)}`,
      fix: 'point TLS_CA_FILE and TLS_CERT_FILE at PEM certificates',
    };
  }
  const fixes: string[] = [];
  for (const [label, c] of [
    ['the CA', ca],
    ['the certificate', cert],
  ] as const) {
    if (new Date(c.validTo) < now) {
      problems.push(`${label} expired on ${new Date(c.validTo).toISOString()}`);
      fixes.push(`renew ${label}`);
    } else if (new Date(c.validFrom) > now) {
      problems.push(`${label} is not valid before ${new Date(c.validFrom).toISOString()}`);
      fixes.push("check the clock, or the certificate's start date");
    }
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    problems.push(
      `the certificate (${cert.subject.replaceAll('\n', ', ')}) is not signed by the CA (${ca.subject.replaceAll('\n', ', ')})`,
    );
    fixes.push('use the CA that issued the certificate, or issue the certificate from TLS_CA_FILE');
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(env.TLS_KEY_FILE as string)))) {
      problems.push('TLS_KEY_FILE is not the key of TLS_CERT_FILE');
      fixes.push('pair the certificate with its own key');
    }
  } catch (e: unknown) {
    problems.push(`TLS_KEY_FILE is not a private key: ${describe(e)}`);
    fixes.push('point TLS_KEY_FILE at the PEM private key of the certificate');
  }
  if (problems.length > 0)
    return { name, status: 'fail', detail: problems.join('; '), fix: fixes.join('; ') };
  const days = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000);
  const detail = `${cert.subjectAltName ?? cert.subject} issued by the CA, valid ${days} more day(s)`;
  return days < expiryWarningDays
    ? { name, status: 'warn', detail, fix: 'renew the certificate before it expires' }
    : { name, status: 'ok', detail };
}

/** An error as one line: its code, its message, and its cause's (fetch wraps the socket error). */
function describe(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describe(e.errors[0]);
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  const own = typeof code === 'string' && !e.message.startsWith(code) ? `${code} ${e.message}` : e.message;
  return e.cause === undefined ? own : `${own} (${describe(e.cause)})`;
}
