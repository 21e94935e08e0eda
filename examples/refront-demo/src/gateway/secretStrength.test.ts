import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, PLACEHOLDER_WORDS, secretProblems } from './secretStrength.js';

describe('secretProblems: what a production HS256 secret may not be', () => {
  it('accepts random keys as the docs make them (openssl rand -base64 48, -hex 32)', () => {
    for (let i = 0; i < 50; i++) {
      expect(secretProblems(randomBytes(48).toString('base64'))).toEqual([]);
      expect(secretProblems(randomBytes(32).toString('hex'))).toEqual([]);
    }
  });

  it('refuses the placeholder of deploy/k8s/secret.yaml and every placeholder word, in any spelling', () => {
    expect(secretProblems('CHANGE-ME-to-at-least-32-random-characters')).toEqual([
      'looks like a placeholder (contains "changeme")',
    ]);
    const random = randomBytes(32).toString('base64');
    for (const word of PLACEHOLDER_WORDS) {
      const spelled = `${random.slice(0, 20)}_${word.toUpperCase().split('').join('-')}_${random.slice(20)}`;
      expect(secretProblems(spelled), spelled).toContain(`looks like a placeholder (contains "${word}")`);
    }
  });

  it('refuses fewer than 32 characters', () => {
    const key = randomBytes(48).toString('base64');
    expect(secretProblems(key.slice(0, MIN_SECRET_LENGTH))).toEqual([]);
    expect(secretProblems(key.slice(0, MIN_SECRET_LENGTH - 1))).toEqual(['has fewer than 32 characters']);
  });

  it('refuses few distinct characters and low entropy, however long', () => {
    expect(secretProblems('x'.repeat(64))).toEqual([
      'has only 1 distinct characters (at least 12)',
      'has 0.0 bits of entropy per character (at least 3)',
    ]);
    expect(secretProblems('0123456789'.repeat(4))).toEqual(['has only 10 distinct characters (at least 12)']);
    // 12 distinct characters, one of them nearly everywhere: 1.2 bits per character.
    expect(secretProblems(`${'a'.repeat(60)}bcdefghijkl`)).toEqual([
      'has 1.2 bits of entropy per character (at least 3)',
    ]);
  });
});
