import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config.js';

const schema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  DATABASE_URL: z.url(),
  LOG_JSON: z.stringbool().default(true),
  MODE: z.enum(['monolith', 'distributed']),
});

describe('loadConfig', () => {
  it('parses typed values and applies defaults', () => {
    const c = loadConfig(schema, {
      DATABASE_URL: 'postgres://localhost/x',
      MODE: 'monolith',
      LOG_JSON: 'false',
    });
    expect(c).toEqual({
      PORT: 8080,
      DATABASE_URL: 'postgres://localhost/x',
      LOG_JSON: false,
      MODE: 'monolith',
    });
  });

  it('reports every invalid or missing variable at once, by name, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '99999', DATABASE_URL: 'not a url secret-token', LOG_JSON: 'maybe' });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const ce = error as ConfigError;
    expect(ce.status).toBe('INVALID_ARGUMENT');
    expect(ce.reason).toBe('CORE_INVALID_CONFIG');
    expect(ce.violations.map((v) => v.field).sort()).toEqual(['DATABASE_URL', 'LOG_JSON', 'MODE', 'PORT']);
    expect(ce.violations.find((v) => v.field === 'MODE')?.description).toMatch(/^missing/);
    expect(ce.message).toContain('4 problems');
    expect(ce.message).not.toContain('secret-token');
  });
});
