import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from './createApp.js';
import { CreateRefrontError } from './errors.js';

/** The command's help text. */
export const USAGE = `Usage: npm create refront@latest <directory> [-- options]
       create-refront <directory> [options]

Makes a new Refront app in <directory> (its last segment names the app): one service with its
.proto contract, handler, event subscriber, migration, config, tests, README and Dockerfile.

Options:
  --refront-from <dir>  install @refront/* from the tarballs in <dir> (npm pack output) instead
                        of the registry; also REFRONT_FROM
  --no-install          write the files only (then: npm install && npm run generate)
  -h, --help            show this text`;

/**
 * Runs the command with its arguments and environment; resolves with the exit code (0 done, 1
 * failed, 2 usage). Messages go to standard output and error.
 * @example
 * process.exitCode = await main(['my-app', '--no-install'], process.env);
 */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error: unknown) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const directory = positionals[0];
  if (directory === undefined || positionals.length > 1) {
    console.error(
      `${directory === undefined ? 'Name the folder of the new app.' : 'Give one folder.'}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const app = await createApp({
      directory,
      refrontFrom: values['refront-from'] ?? (env.REFRONT_FROM || undefined),
      install: !values['no-install'],
    });
    const cd = relative(process.cwd(), app.directory) || '.';
    const steps = app.installed
      ? [`cd ${cd}`, 'npm run dev     # the app on the embedded database', 'npm test']
      : [`cd ${cd}`, 'npm install', 'npm run dev     # the app on the embedded database', 'npm test'];
    console.log(`\nDone. Next:\n${steps.map((s) => `  ${s}`).join('\n')}\nThen read ${cd}/README.md.`);
    return 0;
  } catch (error: unknown) {
    if (error instanceof CreateRefrontError) {
      console.error(`create-refront: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'refront-from': { type: 'string' },
      'no-install': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
