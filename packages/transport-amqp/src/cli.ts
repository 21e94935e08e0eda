import { parseArgs } from 'node:util';
import { isRefrontError } from '@refront/core';
import { connect } from 'amqplib';
import { listUnrouted } from './listUnrouted.js';
import { replayUnrouted } from './replayUnrouted.js';

/** Where the command writes. */
export interface CliOutput {
  log(line: string): void;
  error(line: string): void;
}

const USAGE = `usage:
  refront-amqp unrouted list   [--url <amqp-url>] [--namespace <ns>] [--limit <n>] [--json]
  refront-amqp unrouted replay [--url <amqp-url>] [--namespace <ns>] [--limit <n>] [--type <event type>] [--exchange <name>]
  refront-amqp exchange delete <name> [--url <amqp-url>]
--url defaults to $AMQP_URL; --namespace to 'refront'.`;

/**
 * The `refront-amqp` operations command: list and replay parked (unrouted) events, delete a domain
 * exchange declared without the alternate exchange. Returns the exit code (0 ok, 1 failed, 2 usage).
 *
 * @throws never: failures are printed and returned as exit code 1.
 * @example
 * process.exitCode = await runCli(['unrouted', 'replay', '--url', 'amqp://127.0.0.1'], console);
 */
export async function runCli(argv: readonly string[], out: CliOutput): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e: unknown) {
    out.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  const { command, values, name } = parsed;
  const url = values.url ?? process.env.AMQP_URL;
  if (!url) {
    out.error(`no broker: pass --url or set AMQP_URL\n${USAGE}`);
    return 2;
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const common = { url, namespace: values.namespace, ...(limit === undefined ? {} : { limit }) };
  try {
    if (command === 'unrouted list') {
      const messages = await listUnrouted(common);
      for (const m of messages) {
        const row = {
          exchange: m.exchange,
          routingKey: m.routingKey,
          type: m.type,
          messageId: m.messageId,
          source: m.source,
        };
        out.log(
          values.json
            ? JSON.stringify(row)
            : `${m.exchange}\t${m.routingKey}\t${m.messageId ?? '-'}\t${m.source ?? '-'}`,
        );
      }
      if (!values.json) out.log(`${messages.length} parked event(s)`);
    } else if (command === 'unrouted replay') {
      const { type, exchange } = values;
      const r = await replayUnrouted({
        ...common,
        filter: (m) =>
          (type === undefined || m.type === type) && (exchange === undefined || m.exchange === exchange),
      });
      out.log(
        `replayed ${r.replayed}, still unrouted ${r.stillUnrouted} (parked again), skipped ${r.skipped}`,
      );
      // Only a publisher's own broker user can replay its events (decision 0049).
      for (const [user, n] of Object.entries(r.otherPublishers))
        out.log(
          `left parked ${n}, published by broker user ${user}: replay again with --url logged in as ${user}`,
        );
    } else {
      const conn = await connect(url);
      try {
        const ch = await conn.createChannel();
        await ch.deleteExchange(name!);
      } finally {
        await conn.close().catch(() => {});
      }
      out.log(
        `deleted exchange ${name}: restart its consumers so they re-bind; the next publish re-declares it with the alternate exchange`,
      );
    }
    return 0;
  } catch (e: unknown) {
    const reason = isRefrontError(e) ? `${e.reason}: ` : '';
    out.error(`refront-amqp ${command}: ${reason}${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      namespace: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      type: { type: 'string' },
      exchange: { type: 'string' },
    },
  });
  const [noun, verb, name, ...rest] = positionals;
  const command = `${noun} ${verb}`;
  if (
    command === 'exchange delete'
      ? !name || rest.length > 0
      : !['unrouted list', 'unrouted replay'].includes(command) || name !== undefined
  )
    throw new Error(`unknown command: ${positionals.join(' ') || '(none)'}`);
  if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit))
    throw new Error(`--limit must be a positive integer, got ${values.limit}`);
  return { command, values, name };
}
