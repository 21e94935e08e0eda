import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineErrors } from '@refront/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readClientPems, readServerPems } from './tls.js';

const LaneErrors = defineErrors('LANE', {
  BAD_CREDENTIALS: {
    status: 'INVALID_ARGUMENT',
    message: (label: string, file: string) => `cannot read ${label} ${file}`,
    description: 'A PEM file could not be read.',
  },
});
const X = LaneErrors.BAD_CREDENTIALS;

const dir = mkdtempSync(join(tmpdir(), 'refront-rpc-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('PEM files', () => {
  it('reads the files a client names, and only those', () => {
    const ca = file('ca.pem', 'CA');
    expect(readClientPems({ caFile: ca }, X)).toEqual({
      ca: Buffer.from('CA'),
      cert: undefined,
      key: undefined,
    });
    const both = readClientPems({ certFile: file('c.pem', 'C'), keyFile: file('k.pem', 'K') }, X);
    expect([both.ca, both.cert?.toString(), both.key?.toString()]).toEqual([undefined, 'C', 'K']);
  });

  it('refuses a client certificate without its key, and the reverse', () => {
    expect(() => readClientPems({ certFile: file('c2.pem', 'C') }, X)).toThrow(/go together/);
    expect(() => readClientPems({ keyFile: file('k2.pem', 'K') }, X)).toThrow(/go together/);
  });

  it("fails a file that cannot be read with INVALID_ARGUMENT and the lane's reason, naming it", () => {
    let caught: unknown;
    try {
      readServerPems({ certFile: join(dir, 'missing.crt'), keyFile: file('k3.pem', 'K') }, X);
    } catch (e: unknown) {
      caught = e;
    }
    expect(caught).toMatchObject({
      status: 'INVALID_ARGUMENT',
      reason: 'LANE_BAD_CREDENTIALS',
      retryable: false,
      cause: expect.objectContaining({ code: 'ENOENT' }),
      message: `cannot read certFile ${join(dir, 'missing.crt')}`,
    });
  });

  it('reads a server pair, with the client CA only when given (mutual TLS)', () => {
    const pair = { certFile: file('s.crt', 'S'), keyFile: file('s.key', 'SK') };
    expect(readServerPems(pair, X).clientCa).toBeUndefined();
    const mutual = readServerPems({ ...pair, clientCaFile: file('cca.pem', 'CCA') }, X);
    expect([mutual.cert.toString(), mutual.key.toString(), mutual.clientCa?.toString()]).toEqual([
      'S',
      'SK',
      'CCA',
    ]);
  });
});
