import { randomUUID } from 'node:crypto';
import type { Client } from '@refront/core';
import { findInfra, rejection, startTestApp, type TestApp, type TestAppOptions } from '@refront/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoteCreated, NotesServiceDefinition } from '../gen/notes/v1/notes.js';
import { countWords, notesModule } from './module.js';

// The notes service in this process with @refront/testing: its own schema (migrated), its outbox
// relayed to the bus, its server on the in-process lane every caller of the monolith uses (the
// same chain as a remote call: deadline, context, errors), every published event captured, and
// faults injected on the lanes. The same tests run on the embedded database with the in-process
// bus, then on PostgreSQL and RabbitMQ when they answer (REFRONT_REQUIRE_INFRA=1: they must).
const real = (await findInfra('postgres')) !== undefined && (await findInfra('rabbitmq')) !== undefined;
const runs: { name: string; options: Pick<TestAppOptions, 'database' | 'broker'> }[] = [
  {
    name: 'the embedded database and in-process events',
    options: { database: 'pglite', broker: 'in-process' },
  },
  ...(real
    ? [{ name: 'PostgreSQL and RabbitMQ', options: { database: 'postgres', broker: 'rabbitmq' } } as const]
    : []),
];

describe.each(runs)('notes on $name', ({ options }) => {
  let app: TestApp;
  let notes: Client<typeof NotesServiceDefinition>;

  beforeAll(async () => {
    app = await startTestApp({ modules: [notesModule], ...options });
    notes = app.client(NotesServiceDefinition);
  });
  afterAll(() => app?.close());

  /** The stats once every note written so far is counted (events are applied after commit). */
  async function counted(): Promise<{ notes: number; words: number }> {
    const { rows } = await app.db('notes').query<{ n: number }>('select count(*)::int as n from notes');
    await expect.poll(() => notes.getStats({}).then((s) => s.notes), { timeout: 10_000 }).toBe(rows[0]?.n);
    return notes.getStats({});
  }

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
    const error = await rejection(notes.createNote({ title: ' ', body: 'x'.repeat(10_001) }));
    expect([error.status, error.reason]).toEqual(['INVALID_ARGUMENT', 'NOTES_INVALID_NOTE']);
    expect(error.details.fieldViolations?.map((v) => v.field)).toEqual(['title', 'body']);
  });

  it('answers NOT_FOUND for an unknown id', async () => {
    const error = await rejection(notes.getNote({ id: randomUUID() }));
    expect(error.reason).toBe('NOTES_NOT_FOUND');
  });

  it('creates one note and publishes one NoteCreated for a retried call (same idempotency key)', async () => {
    const key = randomUUID();
    const first = await notes.createNote({ title: 'Once' }, { idempotencyKey: key });
    const retry = await notes.createNote({ title: 'Once' }, { idempotencyKey: key });
    expect(retry.note?.id).toBe(first.note?.id);
    const rows = await app.db('notes').query('select id from notes where title = $1', ['Once']);
    expect(rows.rows).toHaveLength(1);
    await app.events.waitFor(NoteCreated, (e) => e.noteId === first.note?.id);
    await app.settled();
    expect(app.events.of(NoteCreated, (e) => e.title === 'Once')).toHaveLength(1);
  });

  it('publishes NoteCreated after commit, and the subscriber counts it in the stats', async () => {
    const before = await counted();
    const { note } = await notes.createNote({ title: 'Three more', body: 'words' });
    const { event, envelope } = await app.events.waitFor(NoteCreated, (e) => e.noteId === note?.id);
    expect(event).toEqual({ noteId: note?.id, title: 'Three more', words: 3 });
    expect(envelope.source).toBe('notes');
    await app.settled();
    expect(await notes.getStats({})).toEqual({ notes: before.notes + 1, words: before.words + 3 });
  });

  it('applies a NoteCreated delivered twice once (the inbox remembers it)', async () => {
    const before = await counted();
    // The next NoteCreated reaches the notes group's handler twice, as a redelivery would.
    const twice = app.faults.event({ type: NoteCreated, group: 'notes' }, { kind: 'duplicate' }, { nth: 1 });
    const { note } = await notes.createNote({ title: 'Delivered twice', body: 'one two' });
    await app.events.waitFor(NoteCreated, (e) => e.noteId === note?.id);
    await app.settled();
    expect(twice.hits).toBe(1);
    // Counted where the effect lands: a counter that a second run would have moved again.
    expect(await notes.getStats({})).toEqual({ notes: before.notes + 1, words: before.words + 4 });
    twice.remove();
  });

  it('counts words', () => {
    expect(countWords('Hello, wide world: 42')).toBe(4);
    expect(countWords('  ')).toBe(0);
  });
});
