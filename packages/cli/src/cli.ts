import { Command, CommanderError, Option } from 'commander';
import { call } from './call.js';
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from './dlq.js';
import { doctor } from './doctor.js';
import { CliErrors, describeFailure } from './errors.js';
import { generate } from './generate.js';
import { newService, relativeTo } from './newService.js';
import type { CliOutput } from './output.js';

/** Where `runCli` runs: the directory and environment commands resolve against. */
export interface CliContext {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;

/**
 * The `refront` command (commander, decision 0118). Returns the exit code: 0 done, 1 failed
 * (the reason is printed), 2 a usage error. It never calls `process.exit`, so tests run it
 * in-process.
 *
 * @example
 * process.exitCode = await runCli(['doctor'], console);
 * await runCli(['new', 'service', 'billing-alerts'], console, { cwd: 'examples/refront-demo' });
 */
export async function runCli(
  argv: readonly string[],
  out: CliOutput,
  context: CliContext = {},
): Promise<number> {
  const cwd = context.cwd ?? process.cwd();
  const env = context.env ?? process.env;
  let code = 0;
  const program = new Command('refront')
    .description('Refront: scaffold services, generate contracts, check the environment, operate a platform')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => out.log(s.trimEnd()),
      writeErr: (s) => out.error(s.trimEnd()),
    })
    .showHelpAfterError();

  const create = program.command('new').description('add something to a workspace');
  create
    .command('service <name>')
    .description(
      'add a service (contract, module, migration, test) to a workspace laid out like examples/refront-demo, registered in src/platform/services.ts',
    )
    .action((name: string) => {
      const r = newService({ name, cwd });
      for (const f of relativeTo(cwd, r.root, r.files)) out.log(`  wrote ${f}`);
      if (!r.formatted) out.log('  (not formatted: the workspace has no Biome, or it failed on them)');
      if (r.hook) out.log(`  generated its contracts and ran npm run refront:services in ${r.hook}`);
      out.log(
        `Added ${name} (${r.moduleName}). Next: refront generate, then run its test; the monolith and serve.ts (SERVICE=${name}) start it with no other edit.`,
      );
    });

  program
    .command('generate')
    .description(
      "run the contract pipeline (buf lint, ts-proto with Refront's options, descriptors) on proto/ → src/gen/",
    )
    .option('--proto <dir>', 'the buf module of the contracts (default: the nearest proto/)')
    .option('--out <dir>', 'where the TypeScript goes (default: src/gen beside proto/)')
    .option('--check', 'fail when the generated code is stale instead of writing it')
    .action((o: { proto?: string; out?: string; check?: boolean }) => {
      const r = generate({ cwd, ...o });
      if (o.check) {
        if (r.stale.length > 0) {
          out.error(`stale generated code in ${r.out} (run refront generate):\n  ${r.stale.join('\n  ')}`);
          code = 1;
        } else out.log(`${r.module}: generated code is up to date (${r.files.length} files)`);
      } else out.log(`${r.module} → ${r.out}: ${r.files.length} files`);
    });

  program
    .command('doctor')
    .description(
      'check Node.js, PostgreSQL (DATABASE_URL), RabbitMQ (AMQP_URL), Consul (CONSUL_HTTP_ADDR) and the TLS files',
    )
    .option('--database-url <url>', 'PostgreSQL URL (default: $DATABASE_URL)')
    .option('--amqp-url <url>', 'RabbitMQ URL (default: $AMQP_URL)')
    .option('--consul <address>', 'Consul HTTP address (default: $CONSUL_HTTP_ADDR)')
    .addOption(new Option('--timeout <ms>', 'connect timeout per server').default('3000'))
    .action(async (o: { databaseUrl?: string; amqpUrl?: string; consul?: string; timeout: string }) => {
      const checks = await doctor({
        env: {
          ...env,
          ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}),
          ...(o.amqpUrl ? { AMQP_URL: o.amqpUrl } : {}),
          ...(o.consul ? { CONSUL_HTTP_ADDR: o.consul } : {}),
        },
        timeoutMs: positive(o.timeout, '--timeout'),
      });
      for (const c of checks) {
        const line = `${MARK[c.status]} ${c.name.padEnd(12)} ${c.detail}`;
        if (c.status === 'fail') out.error(line);
        else out.log(line);
        if (c.fix) (c.status === 'fail' ? out.error : out.log)(`     ${''.padEnd(12)} fix: ${c.fix}`);
      }
      const failed = checks.filter((c) => c.status === 'fail').length;
      out.log(failed === 0 ? 'doctor: no failure' : `doctor: ${failed} failure(s)`);
      if (failed > 0) code = 1;
    });

  const dlq = program
    .command('dlq')
    .description("a consumer group's dead letters (transport-amqp's <ns>.<group>.dlq)");
  const amqpOptions = (c: Command) =>
    c
      .option('--url <amqp-url>', 'the broker (default: $AMQP_URL)')
      .addOption(new Option('--namespace <ns>', 'the buses namespace').default('refront'));
  amqpOptions(dlq.command('list <group>').description('list the dead letters without removing them'))
    .addOption(new Option('--limit <n>', 'at most this many').default('100'))
    .option('--json', 'one JSON object per line')
    .action(async (group: string, o: { url?: string; namespace: string; limit: string; json?: boolean }) => {
      const rows = await listDeadLetters(
        { url: amqpUrl(o.url, env), namespace: o.namespace, group },
        positive(o.limit, '--limit'),
      );
      for (const r of rows)
        out.log(
          o.json
            ? JSON.stringify(r)
            : `${r.id}\t${r.type}\t${r.reason}\tattempts ${r.attempts}\t${r.deadLetteredAt ?? '-'}\t${r.error}`,
        );
      if (!o.json) out.log(`${rows.length} dead letter(s) in ${o.namespace}.${group}.dlq`);
    });
  amqpOptions(
    dlq
      .command('replay <group>')
      .description(
        "send dead letters back to the group's queue, as first attempts (--all, or --id for some)",
      ),
  )
    .option('--all', 'every dead letter of the group')
    .option('--id <event-id...>', 'only these events (message ids, as dlq list prints them)')
    .action(async (group: string, o: { url?: string; namespace: string; all?: boolean; id?: string[] }) => {
      if (!o.all === !o.id) throw CliErrors.USAGE('pass either --all or --id <event-id...>');
      const url = amqpUrl(o.url, env);
      const r = await replayDeadLetters({ url, namespace: o.namespace, group }, o.id ? { ids: o.id } : {});
      out.log(`replayed ${r.replayed} to ${o.namespace}.${group}; ${r.left} left in the dead-letter queue`);
      if (r.missing.length > 0) {
        out.error(`not in ${o.namespace}.${group}.dlq: ${r.missing.join(', ')}`);
        code = 1;
      }
    });
  amqpOptions(
    dlq.command('discard <group>').description('drop dead letters for good (--all, or --id for some)'),
  )
    .option('--all', 'every dead letter of the group')
    .option('--id <event-id...>', 'only these events (message ids, as dlq list prints them)')
    .action(async (group: string, o: { url?: string; namespace: string; all?: boolean; id?: string[] }) => {
      if (!o.all === !o.id) throw CliErrors.USAGE('pass either --all or --id <event-id...>');
      const url = amqpUrl(o.url, env);
      const r = await discardDeadLetters({ url, namespace: o.namespace, group }, o.id ? { ids: o.id } : {});
      out.log(`discarded ${r.replayed} from ${o.namespace}.${group}.dlq; ${r.left} left`);
      if (r.missing.length > 0) {
        out.error(`not in ${o.namespace}.${group}.dlq: ${r.missing.join(', ')}`);
        code = 1;
      }
    });

  program
    .command('call <target> [json]')
    .description("call <service>/<method> over gRPC with a JSON request, by the workspace's contracts")
    .option('--address <host:port>', 'the server (default: REFRONT_ENDPOINTS, else Consul)')
    .option('--tenant <tenant>', 'the tenant the call acts for')
    .addOption(new Option('--caller <name>', 'the caller name sent').default('refront-cli'))
    .option('-H, --metadata <key=value...>', 'more metadata')
    .option('--proto <dir>', 'the buf module of the contracts (default: the nearest proto/)')
    .addOption(new Option('--timeout <ms>', 'deadline').default('10000'))
    .option('--ca <file>', 'mutual TLS: the CA certificate')
    .option('--cert <file>', "mutual TLS: this caller's certificate")
    .option('--key <file>', "mutual TLS: this caller's key")
    .option('--server-name <name>', "mutual TLS: the name expected in the server's certificate")
    .action(
      async (
        target: string,
        json: string | undefined,
        o: {
          address?: string;
          tenant?: string;
          caller: string;
          metadata?: string[];
          proto?: string;
          timeout: string;
          ca?: string;
          cert?: string;
          key?: string;
          serverName?: string;
        },
      ) => {
        const metadata: Record<string, string> = {};
        for (const kv of o.metadata ?? []) {
          const i = kv.indexOf('=');
          if (i <= 0) throw CliErrors.USAGE(`--metadata ${kv} is not key=value`);
          metadata[kv.slice(0, i).toLowerCase()] = kv.slice(i + 1);
        }
        const r = await call({
          target,
          json: json ?? '{}',
          cwd,
          env,
          metadata,
          caller: o.caller,
          timeoutMs: positive(o.timeout, '--timeout'),
          ...(o.address ? { address: o.address } : {}),
          ...(o.tenant ? { tenant: o.tenant } : {}),
          ...(o.proto ? { proto: o.proto } : {}),
          ...(o.ca
            ? {
                tls: {
                  ca: o.ca,
                  ...(o.cert ? { cert: o.cert } : {}),
                  ...(o.key ? { key: o.key } : {}),
                  ...(o.serverName ? { serverName: o.serverName } : {}),
                },
              }
            : {}),
        });
        out.log(JSON.stringify(r.response, null, 2));
      },
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e: unknown) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const failure = describeFailure(e);
    if (failure) {
      out.error(`refront: ${failure.message}`);
      return failure.exitCode;
    }
    out.error(`refront: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

function positive(value: string, flag: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw CliErrors.USAGE(`${flag} must be a positive integer, got ${value}`);
  return Number(value);
}

function amqpUrl(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const url = flag ?? env.AMQP_URL;
  if (!url) throw CliErrors.USAGE('no broker: pass --url or set AMQP_URL');
  return url;
}
