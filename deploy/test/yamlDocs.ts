import { readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { readRepoFile, repoPath } from './paths.js';

/** One YAML document of a file, parsed to plain data. */
export interface YamlDoc {
  /** Repository-relative path of its file. */
  readonly file: string;
  /** Position in its file, from 0. */
  readonly index: number;
  readonly body: Record<string, unknown>;
}

/**
 * Parses every document of a YAML text, with merge keys (`<<: *anchor`) resolved as Compose does.
 * @throws Error naming the file when a document does not parse or is not a mapping.
 */
export function parseYamlDocs(file: string, text: string): YamlDoc[] {
  return parseAllDocuments(text, { merge: true, prettyErrors: true })
    .map((d, index) => {
      if (d.errors.length > 0)
        throw new Error(`${file}#${index}: ${d.errors.map((e) => e.message).join('; ')}`);
      const body: unknown = d.toJS({ maxAliasCount: 100 });
      if (body === null || body === undefined) return undefined;
      if (typeof body !== 'object' || Array.isArray(body)) throw new Error(`${file}#${index}: not a mapping`);
      return { file, index, body: body as Record<string, unknown> };
    })
    .filter((d): d is YamlDoc => d !== undefined);
}

/** Every document of every `*.yaml` file in a repository folder, kustomization.yaml apart. */
export function loadManifests(dir: string): YamlDoc[] {
  return readdirSync(repoPath(dir))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseYamlDocs(`${dir}/${f}`, readRepoFile(`${dir}/${f}`)));
}
