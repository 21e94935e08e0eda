import { DockerfileParser, Env } from 'dockerfile-ast';
import { readRepoFile } from './paths.js';

/** What the final stage of deploy/Dockerfile gives a container: its ENV, its EXPOSEd ports, its user. */
export interface RuntimeImage {
  readonly env: Readonly<Record<string, string>>;
  readonly exposed: readonly number[];
  /** Its `USER` (`uid:gid`). */
  readonly user: string;
}

/** Reads the final (runtime) stage of deploy/Dockerfile. */
export function runtimeImage(): RuntimeImage {
  const instructions = DockerfileParser.parse(readRepoFile('deploy/Dockerfile')).getInstructions();
  const lastFrom = instructions.findLastIndex((i) => i.getKeyword().toUpperCase() === 'FROM');
  const env: Record<string, string> = {};
  const exposed: number[] = [];
  let user = '';
  for (const i of instructions.slice(lastFrom)) {
    if (i instanceof Env) for (const p of i.getProperties()) env[p.getName()] = p.getValue() ?? '';
    if (i.getKeyword().toUpperCase() === 'USER') user = i.getArgumentsContent() ?? '';
    if (i.getKeyword().toUpperCase() === 'EXPOSE') {
      for (const a of i.getArguments()) exposed.push(Number(a.getValue().replace(/\/tcp$/, '')));
    }
  }
  return { env, exposed, user };
}
