import { existsSync } from 'node:fs';
import { DockerfileParser, type Flag } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { SERVE_BUNDLE_DIR } from '../tsup.config.js';
import { readRepoFile, repoPath } from './paths.js';

const DOCKERFILE = readRepoFile('deploy/Dockerfile');

/** One build stage: its name and its instructions as keyword + argument text. */
interface Stage {
  readonly name: string | undefined;
  readonly instructions: { keyword: string; args: string; flags: Record<string, string | null> }[];
}

function stagesOf(content: string): Stage[] {
  const stages: Stage[] = [];
  for (const i of DockerfileParser.parse(content).getInstructions()) {
    const keyword = i.getKeyword().toUpperCase();
    const args = (i.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
    const flags = Object.fromEntries(
      'getFlags' in i
        ? (i as unknown as { getFlags(): Flag[] }).getFlags().map((f) => [f.getName(), f.getValue()])
        : [],
    );
    if (keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1], instructions: [] });
    stages.at(-1)?.instructions.push({ keyword, args, flags });
  }
  return stages;
}

const stages = stagesOf(DOCKERFILE);
const runtime = stages.at(-1) as Stage;
const argsOf = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('deploy/Dockerfile', () => {
  it('passes the dockerfile-utils validator (the checks of the Docker builder)', () => {
    expect(validate(DOCKERFILE).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('the validator rejects a broken Dockerfile (the check is not vacuous)', () => {
    const broken = DOCKERFILE.replace('HEALTHCHECK --interval', 'HEALTHCHECK --intervl').replace(
      'EXPOSE 50051',
      'EXPOSE grpc',
    );
    const messages = validate(broken).map((d) => d.message);
    expect(messages).toEqual(
      expect.arrayContaining(['Unknown flag: intervl', 'Invalid containerPort: grpc']),
    );
  });

  it('copies from earlier stages and from files that exist in the build context', () => {
    const seen = new Set<string>();
    const copiedFrom = new Set<string>();
    for (const stage of stages) {
      for (const { args, flags } of stage.instructions.filter((i) => i.keyword === 'COPY')) {
        const from = flags.from;
        if (from) expect(seen, `COPY --from=${from}`).toContain(from);
        else
          for (const src of args.split(/\s+/).slice(0, -1)) expect(existsSync(repoPath(src)), src).toBe(true);
        if (from) copiedFrom.add(from);
      }
      if (stage.name) seen.add(stage.name);
    }
    expect([...copiedFrom].sort()).toEqual(['build', 'manifests', 'prod-deps']);
  });

  it('the runtime stage: production, non-root by number, health on /readyz, SIGTERM, exec-form entrypoint', () => {
    expect(argsOf(runtime, 'ENV').join(' ')).toMatch(/\bNODE_ENV=production\b/);
    const [user] = argsOf(runtime, 'USER');
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const [health] = argsOf(runtime, 'HEALTHCHECK');
    expect(health).toMatch(/OPS_PORT\|\|9464\)\+'\/readyz'/);
    expect(argsOf(runtime, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    const [entrypoint] = argsOf(runtime, 'ENTRYPOINT');
    expect(JSON.parse(entrypoint ?? '')).toEqual(['refront-entrypoint']);
    expect(argsOf(runtime, 'RUN')).toEqual([]); // nothing is installed or built in the final image
  });

  it('the entrypoint runs the bundle that the build stage makes and copies', () => {
    const script = readRepoFile('deploy/docker-entrypoint.sh');
    expect(script).toMatch(new RegExp(`exec node [^\\n]*/app/${SERVE_BUNDLE_DIR}/serve\\.mjs "\\$@"`));
    const build = stages.find((s) => s.name === 'build') as Stage;
    const run = argsOf(build, 'RUN').join('\n');
    expect(run).toContain('npx tsup --config deploy/tsup.config.ts');
    expect(run).toContain(
      'cp -r examples/refront-demo/dist examples/refront-demo/data /out/examples/refront-demo/',
    );
    expect(SERVE_BUNDLE_DIR.startsWith('examples/refront-demo/dist/')).toBe(true);
  });

  it('.dockerignore keeps installed and built files out of the build context', () => {
    const ignored = readRepoFile('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});
