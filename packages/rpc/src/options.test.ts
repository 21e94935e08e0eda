import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SERVER_KEEPALIVE_TIME_MS,
  positiveInt,
  resolveKeepalive,
} from './options.js';

describe('options', () => {
  it('takes a positive integer up to its bound, and names the option and value otherwise', () => {
    expect(positiveInt('n', 1)).toBe(1);
    expect(positiveInt('n', 64, 64)).toBe(64);
    expect(() => positiveInt('connections', 65, 64)).toThrow(
      'connections must be a positive integer up to 64, got 65',
    );
    expect(() => positiveInt('n', 0)).toThrow('n must be a positive integer, got 0');
    expect(() => positiveInt('n', 1.5)).toThrow(/positive integer/);
    expect(() => positiveInt('n', Number.NaN)).toThrow(/positive integer/);
  });

  it('fills in the keepalive of each side and checks what it is given', () => {
    expect(resolveKeepalive(undefined, 'client')).toEqual({
      timeMs: DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
      timeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
    });
    expect(resolveKeepalive({ timeoutMs: 5 }, 'server')).toEqual({
      timeMs: DEFAULT_SERVER_KEEPALIVE_TIME_MS,
      timeoutMs: 5,
    });
    expect(() => resolveKeepalive({ timeMs: -1 }, 'client')).toThrow(/keepalive.timeMs/);
  });
});
