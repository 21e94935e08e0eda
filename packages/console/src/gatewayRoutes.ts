/** One HTTP route of the gateway, as the API explorer offers it. */
export interface GatewayRoute {
  /** `POST`. */
  readonly method: string;
  /** The OpenAPI path (`/v1/tickets/{id}`): the explorer fills its parameters in. */
  readonly path: string;
  readonly summary: string;
  /** Whether it needs a bearer token. */
  readonly auth: boolean;
  /** A JSON skeleton of its body (every property with a typed placeholder), when it takes one. */
  readonly body: unknown;
}

type Schema = {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
};

interface OpenApi {
  readonly security?: readonly unknown[];
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
  readonly paths?: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
}

interface Operation {
  readonly summary?: string;
  readonly security?: readonly unknown[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: Schema }>> };
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/**
 * The routes of an OpenAPI 3 document (the gateway's `/openapi.json`), each with a skeleton of
 * its JSON body made from the body's schema.
 */
export function gatewayRoutes(doc: OpenApi): GatewayRoute[] {
  const schemas = doc.components?.schemas ?? {};
  const resolve = (s: Schema | undefined): Schema | undefined =>
    s?.$ref ? schemas[s.$ref.split('/').pop() as string] : s;
  const skeleton = (s: Schema | undefined, depth: number): unknown => {
    const schema = resolve(s);
    if (!schema || depth > 6) return null;
    if (schema.default !== undefined) return schema.default;
    if (schema.examples?.[0] !== undefined) return schema.examples[0];
    if (schema.enum?.[0] !== undefined) return schema.enum[0];
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives?.[0]) return skeleton(alternatives[0], depth + 1);
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    switch (type) {
      case 'object':
        return Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([k, v]) => [k, skeleton(v, depth + 1)]),
        );
      case 'array':
        return [skeleton(schema.items, depth + 1)];
      case 'string':
        return schema.format === 'date-time' ? new Date(0).toISOString() : '';
      case 'integer':
      case 'number':
        return 0;
      case 'boolean':
        return false;
      default:
        return schema.properties ? skeleton({ ...schema, type: 'object' }, depth) : null;
    }
  };
  const routes: GatewayRoute[] = [];
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue;
      const body = op.requestBody?.content?.['application/json']?.schema;
      routes.push({
        method: method.toUpperCase(),
        path,
        summary: op.summary ?? '',
        auth: (op.security ?? doc.security ?? []).length > 0,
        body: body ? skeleton(body, 0) : undefined,
      });
    }
  }
  return routes;
}
