import type { FieldViolation } from '@refront/core';
import { RefrontError } from '@refront/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { GatewayReason } from './errors.js';
import type { JsonSchema } from './schemas.js';

/** The parts of a request a route may constrain, in the order they are checked. */
export type RequestPart = 'params' | 'querystring' | 'body';

/** Where each part lives on a Fastify request. */
const REQUEST_KEY: Readonly<Record<RequestPart, 'params' | 'query' | 'body'>> = {
  params: 'params',
  querystring: 'query',
  body: 'body',
};

/** A route's compiled validators; checks every part and reports every violation at once. */
export interface RequestValidator {
  /**
   * Validates (and, for path and query, coerces strings to the schema's types, in place).
   * @throws RefrontError INVALID_ARGUMENT (GATEWAY_VALIDATION_FAILED) listing every field violation.
   */
  validate(request: { params: unknown; query: unknown; body: unknown }): void;
}

/**
 * Two Ajv instances with `allErrors`: bodies are JSON and must have the right types (no
 * coercion: `"30"` is not a number of minutes), while path and query values are always strings
 * and are coerced. Unknown fields are errors, never silently dropped.
 */
function createAjv(coerce: boolean): Ajv {
  return new Ajv({
    allErrors: true,
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    verbose: true,
    strict: true,
  });
}

const bodyAjv = createAjv(false);
const stringAjv = createAjv(true);

function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/** One Ajv error as a field violation named by its dotted path (the part's name at the root). */
export function toViolation(part: RequestPart, e: ErrorObject): FieldViolation {
  const base = pointerToPath(e.instancePath);
  const join = (leaf: string): string => (base === '' ? leaf : `${base}.${leaf}`);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as { description?: unknown; enum?: unknown };
  switch (e.keyword) {
    case 'required':
      return { field: join(String(params.missingProperty)), description: 'is required' };
    case 'additionalProperties':
      return { field: join(String(params.additionalProperty)), description: 'is not a known field' };
    case 'pattern':
      return {
        field: base || part,
        description:
          typeof parent.description === 'string' ? `must be ${parent.description}` : String(e.message),
      };
    case 'enum':
      return {
        field: base || part,
        description: `must be one of ${(Array.isArray(parent.enum) ? parent.enum : []).join(', ')}`,
      };
    case 'minProperties':
      return { field: base || part, description: 'must set at least one field' };
    case 'type':
      return {
        field: base || part,
        description:
          base === '' && part === 'body' ? 'must be a JSON object' : `must be ${String(params.type)}`,
      };
    default:
      return { field: base || part, description: String(e.message) };
  }
}

/**
 * Compiles a route's schemas. Fastify stops at the first failing part; this checks path, query
 * and body together so one 400 lists every problem.
 *
 * @throws Error at startup when a schema does not compile (a bug, not a request error).
 * @example
 * const v = compileRequestValidator({ params: ID_PARAMS, body: BODIES.updateTicket });
 * v.validate(request); // throws INVALID_ARGUMENT with fieldViolations
 */
export function compileRequestValidator(
  schemas: Partial<Record<RequestPart, JsonSchema>>,
  options: { readonly bodyOptional?: boolean } = {},
): RequestValidator {
  const compiled: [RequestPart, ValidateFunction][] = [];
  for (const part of ['params', 'querystring', 'body'] as const) {
    const schema = schemas[part];
    if (schema) compiled.push([part, (part === 'body' ? bodyAjv : stringAjv).compile(schema)]);
  }
  return {
    validate(request) {
      const violations: FieldViolation[] = [];
      const target = request as Record<'params' | 'query' | 'body', unknown>;
      for (const [part, fn] of compiled) {
        const key = REQUEST_KEY[part];
        if (part === 'body' && target.body == null && options.bodyOptional) target.body = {};
        if (part === 'querystring' && target.query == null) target.query = {};
        if (!fn(target[key])) for (const e of fn.errors ?? []) violations.push(toViolation(part, e));
      }
      if (violations.length > 0) {
        throw new RefrontError(
          'INVALID_ARGUMENT',
          GatewayReason.VALIDATION_FAILED,
          `the request is invalid (${violations.length} problem${violations.length === 1 ? '' : 's'})`,
          { details: { fieldViolations: violations }, retryable: false },
        );
      }
    },
  };
}
