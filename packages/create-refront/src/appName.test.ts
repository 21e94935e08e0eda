import { describe, expect, it } from 'vitest';
import { checkAppName } from './appName.js';
import { CreateRefrontError } from './errors.js';

function refusal(name: string): CreateRefrontError {
  try {
    checkAppName(name);
  } catch (error: unknown) {
    if (error instanceof CreateRefrontError) return error;
    throw error;
  }
  return expect.unreachable(`"${name}" was accepted`);
}

describe('checkAppName', () => {
  it('accepts npm package names', () => {
    for (const name of ['my-app', 'notes2', 'a.b_c']) expect(() => checkAppName(name)).not.toThrow();
  });

  it('refuses a name npm would refuse, saying which rules it breaks', () => {
    const error = refusal('My App');
    expect(error.reason).toBe('INVALID_NAME');
    expect(error.message).toContain('"My App"');
    expect(error.message).toMatch(/capital letters/);
    expect(error.message).toMatch(/URL-friendly/);
  });

  it('refuses names reserved by npm or Node', () => {
    expect(refusal('node_modules').reason).toBe('INVALID_NAME');
    expect(refusal('.hidden').reason).toBe('INVALID_NAME');
    expect(refusal('http').reason).toBe('INVALID_NAME');
  });
});
