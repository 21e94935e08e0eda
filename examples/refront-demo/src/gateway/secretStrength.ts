/** Fewest characters of an HS256 secret (256 bits of key material if each carries 8). */
export const MIN_SECRET_LENGTH = 32;
/** Fewest distinct characters of a secret: `aaaa…` or `abab…` is not a key. */
export const MIN_SECRET_DISTINCT_CHARS = 12;
/** Lowest Shannon entropy of a secret's characters, in bits per character. */
export const MIN_SECRET_BITS_PER_CHAR = 3;
/**
 * Words that mark a value copied from a template or a doc, compared without case, spaces or
 * punctuation (so `CHANGE-ME`, `change_me` and `changeme` all match).
 */
export const PLACEHOLDER_WORDS = [
  'changeme',
  'placeholder',
  'example',
  'secret',
  'password',
  'replace',
  'dummy',
  'sample',
  'default',
] as const;

/** Shannon entropy of the characters of `s`, in bits per character (0 for an empty string). */
function bitsPerChar(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * Why `secret` is not fit to sign production tokens, or an empty list. The rule (decision 0067) is
 * a net for obvious mistakes, not a proof of strength: at least {@link MIN_SECRET_LENGTH}
 * characters, none of {@link PLACEHOLDER_WORDS}, at least {@link MIN_SECRET_DISTINCT_CHARS}
 * distinct characters and at least {@link MIN_SECRET_BITS_PER_CHAR} bits of Shannon entropy per
 * character. `openssl rand -base64 48` passes it.
 *
 * @example
 * secretProblems('CHANGE-ME-to-at-least-32-random-characters'); // ['looks like a placeholder (contains "changeme")']
 */
export function secretProblems(secret: string): string[] {
  const problems: string[] = [];
  const chars = [...secret];
  if (chars.length < MIN_SECRET_LENGTH) problems.push(`has fewer than ${MIN_SECRET_LENGTH} characters`);
  const folded = secret.toLowerCase().replace(/[^a-z0-9]/g, '');
  const word = PLACEHOLDER_WORDS.find((w) => folded.includes(w));
  if (word !== undefined) problems.push(`looks like a placeholder (contains "${word}")`);
  const distinct = new Set(chars).size;
  if (distinct < MIN_SECRET_DISTINCT_CHARS) {
    problems.push(`has only ${distinct} distinct characters (at least ${MIN_SECRET_DISTINCT_CHARS})`);
  }
  const bits = bitsPerChar(secret);
  if (bits < MIN_SECRET_BITS_PER_CHAR) {
    problems.push(
      `has ${bits.toFixed(1)} bits of entropy per character (at least ${MIN_SECRET_BITS_PER_CHAR})`,
    );
  }
  return problems;
}
