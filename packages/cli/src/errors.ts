import { defineErrors, isRefrontError } from '@refront/core';

/**
 * The failures `refront` explains to its user, each declared once with its status and meaning
 * (listed in `docs/errors.md#refrontcli`). The message says what is wrong and what to do; the
 * command prints it without a stack and exits with {@link exitCodeOf}: 2 for a command line it
 * cannot act on (INVALID_ARGUMENT), 1 for everything else.
 *
 * @example
 * throw CliErrors.USAGE('pass either --all or --id <event-id...>'); // refront exits 2
 * if (CliErrors.NOT_IN_WORKSPACE.is(e)) console.error(e.message);
 */
export const CliErrors = defineErrors('CLI', {
  USAGE: {
    status: 'INVALID_ARGUMENT',
    message: (problem: string) => problem,
    description:
      'The command line cannot be acted on: a malformed argument or flag, a request that is not JSON, a service or method the contracts do not have, or no address to call. `refront` exits 2.',
  },
  NOT_IN_WORKSPACE: {
    status: 'FAILED_PRECONDITION',
    message: (problem: string) => problem,
    description:
      'What the command works on is missing from the folder it runs in or above: a `proto/` directory, a `buf.yaml`, the service registry (`src/platform/services.ts`) or its marker line, or a tool to install. The message says what to add.',
  },
  ALREADY_EXISTS: {
    status: 'ALREADY_EXISTS',
    message: (what: string) => what,
    description:
      '`refront new service` found the service already registered, or its folder or contract already written; nothing was written.',
  },
  TOOL_FAILED: {
    status: 'FAILED_PRECONDITION',
    message: (tool: string, output: string) => `${tool} failed:\n${output}`,
    description: 'A tool the command runs (buf: lint, generate, build) failed; its own output follows.',
  },
  UNREACHABLE: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The broker (`refront dlq`) or Consul (`refront call` without an address) did not answer, or Consul has no healthy instance of the service.',
  },
  NO_DEAD_LETTER_QUEUE: {
    status: 'NOT_FOUND',
    message: (what: string) => what,
    description: '`refront dlq` was given a consumer group that has no dead-letter queue in that namespace.',
  },
});

/**
 * What `refront` prints for a failure and the code it exits with, or `undefined` for an error
 * that is not a `RefrontError` (a defect: printed with its stack). The CLI's own errors print as
 * their message; the error of a service `refront call` reached as `STATUS REASON: message`, then
 * each refused field on its own line. Exit 2 for a usage error (`CLI_USAGE`), else 1.
 */
export function describeFailure(
  e: unknown,
): { readonly message: string; readonly exitCode: number } | undefined {
  if (!isRefrontError(e)) return undefined;
  if (CLI_REASONS.has(e.reason))
    return { message: e.message, exitCode: e.reason === CliErrors.USAGE.reason ? 2 : 1 };
  const fields = (e.details.fieldViolations ?? []).map((v) => `\n  ${v.field}: ${v.description}`).join('');
  return { message: `${e.status} ${e.reason}: ${e.message}${fields}`, exitCode: 1 };
}

const CLI_REASONS: ReadonlySet<string> = new Set(Object.values(CliErrors).map((f) => f.reason));
