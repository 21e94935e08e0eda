// What every view of the console's page shares: the htm binding and the console's API client.

import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);

/** Calls the console's API with its token (when it has one): `{ ok, status, body }`, never throws for an HTTP status. */
export async function request(path, init = {}) {
  const token = sessionStorage.getItem('refront-console-token');
  const res = await fetch(path, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
  });
  return { ok: res.ok, status: res.status, body: await res.json() };
}

/** The body of a successful API call; throws `REASON: message` otherwise. */
export async function api(path, init = {}) {
  const { ok, status, body } = await request(path, init);
  if (!ok) throw new Error(`${body.error?.reason ?? status}: ${body.error?.message ?? ''}`);
  return body;
}
