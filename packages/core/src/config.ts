import type { z } from 'zod';
import { CoreErrors } from './coreErrors.js';
import { type FieldViolation, RefrontError } from './errors.js';

/** The environment: variable names to values. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Thrown when the environment does not satisfy a config schema; `violations` lists every bad or
 * missing variable at once, by name, with what was expected (values are not echoed: they may be
 * secrets).
 */
export class ConfigError extends RefrontError {
  /** One entry per invalid or missing variable. */
  readonly violations: readonly FieldViolation[];

  constructor(violations: readonly FieldViolation[]) {
    const spec = CoreErrors.INVALID_CONFIG;
    super(spec.status, spec.reason, spec.format(violations.map((v) => `${v.field}: ${v.description}`)), {
      details: { fieldViolations: violations },
      retryable: spec.retryable,
    });
    this.name = 'ConfigError';
    this.violations = violations;
  }
}

/**
 * Parses the environment with a zod schema whose keys are variable names. Use `z.coerce.number()`,
 * `z.stringbool()`, `z.url()`… for typed values and `.default()` for documented defaults.
 *
 * @throws ConfigError listing every invalid or missing variable.
 * @example
 * const config = loadConfig(z.object({
 *   PORT: z.coerce.number().int().min(1).max(65535).default(8080),
 *   DATABASE_URL: z.url().optional(),
 * }));
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const violations = result.error.issues.map((issue): FieldViolation => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    const present = typeof issue.path[0] === 'string' && env[issue.path[0]] !== undefined;
    const description = present ? issue.message : `missing (${issue.message})`;
    return { field, description };
  });
  throw new ConfigError(violations);
}
