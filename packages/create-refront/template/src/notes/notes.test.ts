import { randomUUID } from 'node:crypto';
import { type Client, createClient, isRefrontError } from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, startApp } from '../app.js';
import { readConfig } from '../config.js';
import { NotesServiceDefinition } from '../gen/notes/v1/notes.js';
import { countWords } from './module.js';

// The whole app in this process, as `npm run dev` runs it: embedded database in memory,
// in-process event bus, gRPC and ops on free ports. The client calls through the same chain a
// remote caller's call runs through (deadline, context, errors), without a socket.
let app: App;
let notes: Client<typeof NotesServiceDefinition>;

beforeAll(async () => {
  app = await startApp(readConfig({ GRPC_PORT: '0', OPS_PORT: '0', LOG_LEVEL: 'warn' }));
  notes = createClient(NotesServiceDefinition, app.network.channel(), { caller: 'test' });
});

afterAll(async () => {
  await app?.stop();
});

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  );
}

describe('notes', () => {
  it('creates a note and reads it back', async () => {
    const { note } = await notes.createNote({ title: 'Buy milk', body: 'and bread' });
    expect(note?.id).toBeTruthy();
    const got = await notes.getNote({ id: note?.id });
    expect(got.note).toMatchObject({ title: 'Buy milk', body: 'and bread' });
    expect(got.note?.createdAt).toBeInstanceOf(Date);
    const listed = await notes.listNotes({ pageSize: 100 });
    expect(listed.notes.map((n) => n.id)).toContain(note?.id);
  });

  it('refuses an invalid note with every bad field', async () => {
    const error = await failure(notes.createNote({ title: ' ', body: 'x'.repeat(10_001) }));
    expect(isRefrontError(error) && error.status).toBe('INVALID_ARGUMENT');
    expect(isRefrontError(error) && error.reason).toBe('NOTES_INVALID_NOTE');
    const fields = isRefrontError(error) ? error.details.fieldViolations?.map((v) => v.field) : [];
    expect(fields).toEqual(['title', 'body']);
  });

  it('answers NOT_FOUND for an unknown id', async () => {
    const error = await failure(notes.getNote({ id: randomUUID() }));
    expect(isRefrontError(error) && error.reason).toBe('NOTES_NOT_FOUND');
  });

  it('creates one note for a retried call (same idempotency key)', async () => {
    const key = randomUUID();
    const first = await notes.createNote({ title: 'Once' }, { idempotencyKey: key });
    const retry = await notes.createNote({ title: 'Once' }, { idempotencyKey: key });
    expect(retry.note?.id).toBe(first.note?.id);
    const { notes: all } = await notes.listNotes({ pageSize: 100 });
    expect(all.filter((n) => n.title === 'Once')).toHaveLength(1);
  });

  it('counts each NoteCreated once in the stats (outbox → bus → subscriber)', async () => {
    await notes.createNote({ title: 'Three more', body: 'words' });
    const { notes: all } = await notes.listNotes({ pageSize: 100 });
    // Events are delivered after commit, asynchronously: wait until every note is counted.
    await expect.poll(() => notes.getStats({}).then((s) => s.notes)).toBe(all.length);
    const words = all.reduce((sum, n) => sum + countWords(`${n.title} ${n.body}`), 0);
    expect(await notes.getStats({})).toEqual({ notes: all.length, words });
  });

  it('counts words', () => {
    expect(countWords('Hello, wide world: 42')).toBe(4);
    expect(countWords('  ')).toBe(0);
  });
});
