import { parseArgs } from 'node:util';
import { createDevCertificates, DEFAULT_DEV_CERT_VALIDITY_DAYS } from './devCertificates.js';
import { DEFAULT_TRUST_DOMAIN, spiffeId } from './spiffe.js';

/** Where the command writes. */
export interface CliOutput {
  log(line: string): void;
  error(line: string): void;
}

const USAGE = `usage: refront-dev-certs --dir <folder> [--trust-domain <domain>] [--days <n>] [--dns <name>]... <service>...
Writes ca.crt and <service>.crt / <service>.key (SPIFFE id spiffe://<domain>/<service>) for development.
--trust-domain defaults to '${DEFAULT_TRUST_DOMAIN}', --days to ${DEFAULT_DEV_CERT_VALIDITY_DAYS}.`;

/**
 * The `refront-dev-certs` command: a development CA and one certificate per named service (see
 * {@link createDevCertificates}). Returns the exit code (0 ok, 1 failed, 2 usage).
 *
 * @throws never: failures are printed and returned as exit code 1.
 * @example
 * process.exitCode = await runCli(['--dir', 'certs', 'gateway', 'tickets'], console);
 */
export async function runCli(argv: readonly string[], out: CliOutput): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e: unknown) {
    out.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (!values.dir || positionals.length === 0) {
    out.error(USAGE);
    return 2;
  }
  const days = values.days === undefined ? undefined : Number(values.days);
  const trustDomain = values['trust-domain'] ?? DEFAULT_TRUST_DOMAIN;
  try {
    const certs = await createDevCertificates({
      dir: values.dir,
      services: positionals,
      trustDomain,
      ...(days === undefined ? {} : { validityDays: days }),
      ...(values.dns ? { extraDnsNames: values.dns } : {}),
    });
    out.log(`CA: ${certs.caFile}`);
    for (const s of positionals) out.log(`${spiffeId(s, trustDomain)}: ${certs.files(s).certFile}`);
    return 0;
  } catch (e: unknown) {
    out.error(`refront-dev-certs: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'trust-domain': { type: 'string' },
      days: { type: 'string' },
      dns: { type: 'string', multiple: true },
    },
  });
}
