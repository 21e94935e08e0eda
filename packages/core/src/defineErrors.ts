import {
  isRefrontError,
  RETRYABLE_BY_DEFAULT,
  RefrontError,
  type RefrontErrorOptions,
  type Status,
} from './errors.js';

/**
 * One error of a registry, declared once: its status, its message and what it means. The throw
 * site passes only what varies (the arguments of `message`).
 */
export interface ErrorSpec {
  /** The gRPC status every error of this reason carries. */
  readonly status: Status;
  /** The message, or how to make it from the throw site's arguments. */
  readonly message: string | ((...args: never[]) => string);
  /** Whether retrying may succeed. @default true for UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED */
  readonly retryable?: boolean;
  /** What the reason means and what to do about it: the docs table's text. */
  readonly description: string;
}

/** The arguments a spec's message takes. */
type ArgsOf<S> = S extends { readonly message: (...args: infer A) => string } ? A : [];

/**
 * Makes the errors of one reason: `CoreErrors.DRAINING('tickets')`. It also carries the reason's
 * declaration (`reason`, `status`, `retryable`, `description`) and the anchor of its docs entry.
 */
export interface ErrorFactory<R extends string = string, A extends readonly unknown[] = never[]> {
  /** Makes the error, with the message made from `args`. */
  (...args: A): RefrontError;
  /** Makes the error with constructor options (a `cause`, `details`, `unprocessed`…). */
  with(options: Omit<RefrontErrorOptions, 'retryable'>, ...args: A): RefrontError;
  /** The message alone, for an error class of its own that extends RefrontError (`ConfigError`). */
  format(...args: A): string;
  /** Whether `e` is an error of this reason. */
  is(e: unknown): e is RefrontError;
  /** The reason code, with its package prefix (`CORE_DRAINING`). */
  readonly reason: R;
  readonly status: Status;
  readonly retryable: boolean;
  readonly description: string;
  /** Where the reason is documented: `docs/errors.md#<reason in lower case>`. */
  readonly docs: string;
}

/** The errors of one package, by name; see {@link defineErrors}. */
export type ErrorRegistry<P extends string, T extends Readonly<Record<string, ErrorSpec>>> = {
  readonly [K in keyof T & string]: ErrorFactory<`${P}_${K}`, ArgsOf<T[K]>>;
};

/** The page every registry's reasons are listed on, one anchor per reason. */
export const ERRORS_DOC = 'docs/errors.md';

/**
 * Declares a package's errors once, in the style of fastify's `@fastify/error`: each reason
 * with its status, message and meaning. Throw sites call the factory with what varies, so a
 * reason cannot be thrown with another status, and `docs/errors.md` is generated from the
 * registries (a test fails when it is stale).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a prefix or name that is not
 *   upper snake case.
 * @example
 * export const TicketsErrors = defineErrors('TICKETS', {
 *   NOT_FOUND: {
 *     status: 'NOT_FOUND',
 *     message: (id: string) => `ticket ${id} does not exist`,
 *     description: 'No ticket has this id in the caller\'s tenant.',
 *   },
 * });
 * throw TicketsErrors.NOT_FOUND(id);
 * if (TicketsErrors.NOT_FOUND.is(e)) return undefined;
 */
export function defineErrors<const P extends string, const T extends Readonly<Record<string, ErrorSpec>>>(
  prefix: P,
  specs: T,
): ErrorRegistry<P, T> {
  if (!UPPER_SNAKE.test(prefix)) throw badName(`error prefix "${prefix}" is not upper snake case`);
  const registry: Record<string, ErrorFactory> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (!UPPER_SNAKE.test(name)) throw badName(`error name "${name}" is not upper snake case`);
    registry[name] = factory(`${prefix}_${name}`, spec);
  }
  return Object.freeze(registry) as unknown as ErrorRegistry<P, T>;
}

/**
 * The reason codes of a registry by name (`{ DRAINING: 'CORE_DRAINING', … }`), for code that
 * compares reasons: `e.reason === CoreReason.DRAINING`.
 */
export function reasonsOf<P extends string, T extends Readonly<Record<string, ErrorSpec>>>(
  registry: ErrorRegistry<P, T>,
): { readonly [K in keyof T & string]: `${P}_${K}` } {
  const out: Record<string, string> = {};
  for (const [name, f] of Object.entries(registry as unknown as Record<string, ErrorFactory>))
    out[name] = f.reason;
  return Object.freeze(out) as { readonly [K in keyof T & string]: `${P}_${K}` };
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

function badName(message: string): RefrontError {
  // Not the registry: it is what is being defined.
  return new RefrontError('INVALID_ARGUMENT', 'CORE_INVALID_OPTION', message, { retryable: false });
}

function factory(reason: string, spec: ErrorSpec): ErrorFactory {
  const { status, description } = spec;
  const retryable = spec.retryable ?? RETRYABLE_BY_DEFAULT.has(status);
  const text = spec.message;
  const messageOf =
    typeof text === 'string'
      ? () => text
      : (args: readonly unknown[]) => (text as (...a: unknown[]) => string)(...args);
  const make = (options: RefrontErrorOptions, args: readonly unknown[]): RefrontError =>
    new RefrontError(status, reason, messageOf(args), { ...options, retryable });
  const f = ((...args: unknown[]) => make({}, args)) as unknown as ErrorFactory;
  Object.defineProperties(f, {
    name: { value: reason },
    with: { value: (options: RefrontErrorOptions, ...args: unknown[]) => make(options, args) },
    format: { value: (...args: unknown[]) => messageOf(args) },
    is: { value: (e: unknown): e is RefrontError => isRefrontError(e) && e.reason === reason },
    reason: { value: reason, enumerable: true },
    status: { value: status, enumerable: true },
    retryable: { value: retryable, enumerable: true },
    description: { value: description, enumerable: true },
    docs: { value: `${ERRORS_DOC}#${reason.toLowerCase()}`, enumerable: true },
  });
  return f;
}
