import { randomUUID } from 'node:crypto';
import { createMetricsRegistry, type HandlerContext, isRefrontError, type RefrontError } from '@refront/core';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { expect, it } from 'vitest';
import type { Database, Transaction } from './Database.js';
import { createIdempotentRequests } from './IdempotentRequests.js';
import { describeEngines, silent, uniqueSchema } from './testing/engines.js';

/** A table without a unique key: a second insert of a repeated call would show as a second row. */
const MIGRATIONS = [{ version: 1, name: 'applied', sql: 'create table applied (message text not null);' }];
const echo = EchoServiceDefinition.methods.echo;
const sleep = EchoServiceDefinition.methods.sleep;
/** A complete request, as a handler gets it decoded. */
const req = (message: string) => echo.requestType.fromPartial({ message });

function ctxOf(idempotencyKey: string | undefined, tenant = 'acme') {
  return { tenant, idempotencyKey };
}

async function rows(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from applied');
  return rows[0]?.n ?? -1;
}

async function stored(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from refront_idempotent_requests',
  );
  return rows[0]?.n ?? -1;
}

async function refused(p: Promise<unknown>): Promise<RefrontError> {
  try {
    await p;
  } catch (e: unknown) {
    if (isRefrontError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** The handler under test: writes a row and answers with something only this run knows. */
function counted() {
  let runs = 0;
  const fn = async (tx: Transaction, message: string) => {
    runs++;
    await tx.query('insert into applied (message) values ($1)', [message]);
    return { message, seen: { run: randomUUID() } };
  };
  return { fn, runs: () => runs };
}

describeEngines('IdempotentRequests', (fx) => {
  it('answers a retried call with the stored response without running the handler again', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const metrics = createMetricsRegistry({ processMetrics: false });
    const requests = createIdempotentRequests({ db, metrics });
    const h = counted();
    const request = echo.requestType.fromPartial({ message: 'hello', payload: Buffer.from([1, 2]) });
    const first = await requests.run(ctxOf('k1'), echo, request, (tx) => h.fn(tx, 'hello'));
    const retried = await requests.run(ctxOf('k1'), echo, { ...request }, (tx) => h.fn(tx, 'hello'));
    expect(retried).toEqual(first);
    expect(h.runs()).toBe(1);
    expect(await rows(db)).toBe(1);
    expect(await metrics.metrics()).toContain(
      'refront_idempotent_replays_total{method="refront.testing.v1.Echo"} 1',
    );
  });

  it('refuses a key used again with a different request and writes nothing', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db });
    const h = counted();
    await requests.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    const err = await refused(requests.run(ctxOf('k1'), echo, req('b'), (tx) => h.fn(tx, 'b')));
    expect([err.status, err.reason, err.retryable]).toEqual([
      'FAILED_PRECONDITION',
      'DATA_IDEMPOTENCY_KEY_REUSED',
      false,
    ]);
    expect(h.runs()).toBe(1);
    expect(await rows(db)).toBe(1);
  });

  it('keeps keys apart per tenant and method, and runs every call that has no key', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db });
    const h = counted();
    await requests.run(ctxOf('k1', 'acme'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await requests.run(ctxOf('k1', 'globex'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await requests.run(
      ctxOf('k1', 'acme'),
      sleep,
      sleep.requestType.fromPartial({ durationMs: 1 }),
      async (tx) => {
        await h.fn(tx, 'sleep');
        return {};
      },
    );
    await requests.run(ctxOf(undefined), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await requests.run(ctxOf(undefined), echo, req('a'), (tx) => h.fn(tx, 'a'));
    expect(h.runs()).toBe(5);
    expect(await rows(db)).toBe(5);
    expect(await stored(db)).toBe(3);
  });

  it('stores nothing when the handler throws, so the retry runs it again', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db });
    const h = counted();
    await expect(
      requests.run(ctxOf('k1'), echo, req('a'), async (tx) => {
        await h.fn(tx, 'a');
        throw new Error('transient');
      }),
    ).rejects.toThrow('transient');
    expect(await stored(db)).toBe(0);
    const second = await requests.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    expect(second.message).toBe('a');
    expect(h.runs()).toBe(2);
    expect(await rows(db)).toBe(1);
  });

  it('wraps a handler: the request, the context and the transaction reach it', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db });
    let runs = 0;
    const handler = requests.handler(echo, async (req, ctx, tx) => {
      runs++;
      await tx.query('insert into applied (message) values ($1)', [`${ctx.tenant}:${req.message}`]);
      return { message: req.message };
    });
    const ctx = { ...ctxOf('k1'), signal: new AbortController().signal } as unknown as HandlerContext;
    expect(await handler(req('x'), ctx)).toEqual(await handler(req('x'), ctx));
    expect(runs).toBe(1);
    expect((await db.query('select message from applied')).rows).toEqual([{ message: 'acme:x' }]);
  });

  it('replays a handler whose writes span transactions, recorded with its last ones (a saga)', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db });
    const h = counted();
    const saga = async (message: string) => {
      const stored = await requests.replay(ctxOf('k1'), echo, req(message));
      if (stored) return stored;
      await db.transaction((tx) => h.fn(tx, 'lock'));
      return db.transaction(async (tx) => {
        const res = await h.fn(tx, 'issue');
        return requests.record(tx, ctxOf('k1'), echo, req(message), res);
      });
    };
    const first = await saga('a');
    expect(await saga('a')).toEqual(first);
    expect(h.runs()).toBe(2);
    const err = await refused(saga('b'));
    expect(err.reason).toBe('DATA_IDEMPOTENCY_KEY_REUSED');
    // A second run that reaches its last transaction after the first stored: it must not commit.
    const late = await refused(
      db.transaction(async (tx) => {
        await h.fn(tx, 'issue');
        return requests.record(tx, ctxOf('k1'), echo, req('a'), { message: 'late' });
      }),
    );
    expect([late.status, late.reason]).toEqual(['ABORTED', 'DATA_IDEMPOTENCY_IN_PROGRESS']);
    expect(await rows(db)).toBe(2);
  });

  it('prunes responses older than the retention, after which the key runs again', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    const requests = createIdempotentRequests({ db, retentionMs: 60 * 60_000 });
    const h = counted();
    await requests.run(ctxOf('old'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await requests.run(ctxOf('new'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await db.query(
      "update refront_idempotent_requests set created_at = now() - interval '2 hours' where key = 'old'",
    );
    expect(await requests.prune()).toBe(1);
    expect((await db.query('select key from refront_idempotent_requests')).rows).toEqual([{ key: 'new' }]);
    await requests.run(ctxOf('old'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    expect(h.runs()).toBe(3);
  });

  it('prunes on start and on its interval until closed', async () => {
    const db = await fx.open({ migrations: MIGRATIONS });
    await using requests = createIdempotentRequests({
      db,
      retentionMs: 1_000,
      pruneIntervalMs: 20,
      logger: silent,
    });
    const h = counted();
    await requests.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await db.query("update refront_idempotent_requests set created_at = now() - interval '1 minute'");
    requests.start();
    while ((await stored(db)) > 0) await new Promise((r) => setTimeout(r, 10));
    await requests.run(ctxOf('k2'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await db.query("update refront_idempotent_requests set created_at = now() - interval '1 minute'");
    while ((await stored(db)) > 0) await new Promise((r) => setTimeout(r, 10));
    await requests.close();
    await requests.run(ctxOf('k3'), echo, req('a'), (tx) => h.fn(tx, 'a'));
    await db.query("update refront_idempotent_requests set created_at = now() - interval '1 minute'");
    expect(await stored(db)).toBe(1);
  });

  it('refuses a second call with the key while the first runs, then answers its retry (two connections)', async () => {
    const schema = uniqueSchema();
    const a = await fx.open({ schema, migrations: MIGRATIONS });
    const b = await fx.open({ schema, migrations: MIGRATIONS });
    const first = createIdempotentRequests({ db: a });
    const second = createIdempotentRequests({ db: b });
    const h = counted();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const running = new Promise<void>((r) => {
      entered = r;
    });
    const slow = first.run(ctxOf('k1'), echo, req('a'), async (tx) => {
      const res = await h.fn(tx, 'a');
      entered();
      await gate;
      return res;
    });
    await running;
    if (fx.engine === 'postgres') {
      const err = await refused(second.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a')));
      expect([err.status, err.reason, err.retryable]).toEqual([
        'ABORTED',
        'DATA_IDEMPOTENCY_IN_PROGRESS',
        true,
      ]);
      release();
      const firstResponse = await slow;
      // The retry, once the first committed, gets its answer.
      expect(await second.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a'))).toEqual(firstResponse);
    } else {
      // PGlite runs one transaction at a time: the duplicate waits for the first, then replays it.
      const duplicate = second.run(ctxOf('k1'), echo, req('a'), (tx) => h.fn(tx, 'a'));
      release();
      const [firstResponse, replayed] = await Promise.all([slow, duplicate]);
      expect(replayed).toEqual(firstResponse);
    }
    expect(h.runs()).toBe(1);
    expect(await rows(a)).toBe(1);
  });
});
