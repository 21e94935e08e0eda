import { describe, expect, it } from 'vitest';
import { CoreReason } from './coreErrors.js';
import { isRefrontError } from './errors.js';
import { importOptional } from './importOptional.js';

// In variables, so that TypeScript does not resolve them: these packages do not exist.
const ABSENT = '@refront/no-such-optional-package';
const OTHER = '@refront/another-absent-package';

describe('importOptional', () => {
  it('returns what the import gives when the package is installed', async () => {
    const zlib = await importOptional('compression', ['node:zlib'], () => import('node:zlib'));
    expect(typeof zlib.gzipSync).toBe('function');
  });

  it('turns a package that is not installed into CORE_OPTIONAL_DEPENDENCY_MISSING naming what to install', async () => {
    const e = await importOptional('the feature', [ABSENT, 'node:zlib'], () => import(ABSENT)).catch(
      (err: unknown) => err,
    );
    expect(isRefrontError(e) && e.reason).toBe(CoreReason.OPTIONAL_DEPENDENCY_MISSING);
    expect(isRefrontError(e) && e.status).toBe('FAILED_PRECONDITION');
    expect(isRefrontError(e) && e.retryable).toBe(false);
    expect((e as Error).message).toBe(
      `the feature needs ${ABSENT}, node:zlib; ${ABSENT} is not installed: npm install ${ABSENT} node:zlib`,
    );
    expect((e as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('passes through a missing module it was not told about, and any other failure', async () => {
    const other = await importOptional('f', [ABSENT], () => import(OTHER)).catch((err: unknown) => err);
    expect(isRefrontError(other)).toBe(false);
    expect(other).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    const boom = new Error('the package threw while loading');
    await expect(importOptional('f', [ABSENT], () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
