/** A JSON HTTP reply of the gateway. */
export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the public JSON loosely, as an outside client would
  readonly body: any;
  readonly headers: Headers;
}

/** Options of one {@link http} call. */
export interface HttpOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** Calls the gateway at `baseUrl` with JSON, as any outside HTTP client does. */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  options: HttpOptions = {},
): Promise<Reply> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * A dev token of a user of `tenant` holding `roles` (the demo's gateway serves POST /v1/dev/tokens).
 * @default roles: none (a member)
 */
export async function devToken(
  baseUrl: string,
  tenant: string,
  roles: readonly string[] = [],
): Promise<string> {
  const res = await http(baseUrl, 'POST', '/v1/dev/tokens', {
    body: { tenant, user: `user@${tenant}.example`, roles },
  });
  if (res.status !== 201) throw new Error(`dev token for ${tenant}: ${res.status}`);
  return res.body.token;
}
