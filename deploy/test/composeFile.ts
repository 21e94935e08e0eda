import { readRepoFile } from './paths.js';
import { parseYamlDocs } from './yamlDocs.js';

/** The parts of a Compose service the checks read. */
export interface ComposeService {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  /** Short syntax: `volume:/path[:ro]`. */
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas?: number };
  ports?: string[];
  stop_grace_period?: string;
}

/** A Compose file, parsed with its merge keys resolved and nothing interpolated. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The Compose file of the platform. */
export const COMPOSE_FILE = 'deploy/compose.yaml';

/** Parses deploy/compose.yaml. */
export function loadCompose(): ComposeFile {
  const [doc] = parseYamlDocs(COMPOSE_FILE, readRepoFile(COMPOSE_FILE));
  return doc?.body as unknown as ComposeFile;
}

/**
 * Interpolates a value as `docker compose` does with the variables of its shell: `${NAME}`,
 * `${NAME:-default}` (unset or empty) and `${NAME-default}` (unset).
 * @throws Error on any other `$` form, so that a check never reads a value Compose would not produce.
 */
export function interpolate(value: string, vars: Readonly<Record<string, string | undefined>>): string {
  const out = value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
    (_, name: string, op: string | undefined, fallback: string | undefined) => {
      const v = vars[name];
      if (op === ':-') return v === undefined || v === '' ? (fallback ?? '') : v;
      if (op === '-') return v ?? fallback ?? '';
      return v ?? '';
    },
  );
  if (out.includes('$')) throw new Error(`unsupported interpolation in ${JSON.stringify(value)}`);
  return out;
}

/** The environment of a Compose service as its container sees it, given the shell's variables. */
export function containerEnv(
  s: ComposeService,
  shell: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), shell)]),
  );
}
