import { randomUUID } from 'node:crypto';
import { type FieldViolation, on } from '@refront/core';
import {
  createIdempotentRequests,
  createInbox,
  type ModuleRuntime,
  pageOf,
  pageRequest,
  type ServiceModule,
} from '@refront/data';
import { type Note, NoteCreated, NotesServiceDefinition } from '../gen/notes/v1/notes.js';
import { NotesErrors, throwIfInvalid } from './errors.js';
import { notesMigrations } from './migrations.js';

interface NoteRow {
  seq: number;
  id: string;
  title: string;
  body: string;
  created_at: Date;
}

/**
 * The notes service. A module declares its name, its events, its migrations and who may call it;
 * the host (src/app.ts) gives it a database, an outbox, an event bus and a request server, so the
 * same module runs in one process with others or alone, on the embedded database or PostgreSQL,
 * with the in-process bus or RabbitMQ.
 */
export const notesModule: ServiceModule = {
  name: 'notes',
  // Who may call it, service name → methods: checked on every in-process call, and over gRPC once
  // callers present certificates (mutual TLS).
  callers: { gateway: '*' },
  events: { publishes: [NoteCreated], consumes: [NoteCreated] },
  migrations: notesMigrations,
  async register({ server, db, outbox, bus, metrics, logger, onClose }: ModuleRuntime) {
    // CreateNote stores its response with the note: a retry (same idempotency key) gets the first
    // note back instead of a second one.
    const requests = createIdempotentRequests({ db, metrics, logger });
    requests.start();
    onClose(() => requests.close());

    server.add(NotesServiceDefinition, {
      createNote: requests.handler(NotesServiceDefinition.methods.createNote, async (request, _ctx, tx) => {
        const title = request.title.trim();
        const violations: FieldViolation[] = [];
        if (title.length === 0 || title.length > 200)
          violations.push({ field: 'title', description: 'must be 1 to 200 characters' });
        if (request.body.length > 10_000)
          violations.push({ field: 'body', description: 'must be at most 10000 characters' });
        throwIfInvalid(violations);

        const { rows } = await tx.query<NoteRow>(
          'insert into notes (id, title, body) values ($1, $2, $3) returning seq, id, title, body, created_at',
          [randomUUID(), title, request.body],
        );
        const note = toNote(rows[0] as NoteRow);
        // Written in the same transaction as the note; published after commit by the outbox relay.
        await outbox.add(
          tx,
          NoteCreated,
          { noteId: note.id, title: note.title, words: countWords(`${note.title} ${note.body}`) },
          { key: note.id },
        );
        return { note };
      }),

      async getNote(request) {
        const { rows } = await db.query<NoteRow>(
          'select seq, id, title, body, created_at from notes where id = $1',
          [request.id],
        );
        const row = rows[0];
        if (!row) throw NotesErrors.NOT_FOUND(request.id);
        return { note: toNote(row) };
      },

      async listNotes(request) {
        const page = pageRequest(request.pageSize, request.pageToken);
        const { rows } = await db.query<NoteRow>(
          `select seq, id, title, body, created_at from notes
           where ($1::bigint is null or seq < $1) order by seq desc limit $2`,
          [page.before ?? null, page.limit + 1],
        );
        const { items, nextPageToken } = pageOf(rows, page.limit);
        return { notes: items.map(toNote), nextPageToken };
      },

      async getStats() {
        const { rows } = await db.query<{ notes: number; words: number }>(
          'select notes, words from note_stats where id = 1',
        );
        return rows[0] ?? { notes: 0, words: 0 };
      },
    });

    // The subscriber: each NoteCreated once (the inbox remembers what it applied, in the same
    // transaction), retried then dead-lettered when it throws.
    const inbox = createInbox({ db, group: 'notes', metrics, logger });
    await bus.subscribe('notes', [
      on(
        NoteCreated,
        inbox.handler(async (event, _ctx, tx) => {
          await tx.query('update note_stats set notes = notes + 1, words = words + $1 where id = 1', [
            event.words,
          ]);
        }),
      ),
    ]);
  },
};

function toNote(row: NoteRow): Note {
  return { id: row.id, title: row.title, body: row.body, createdAt: row.created_at };
}

/** Words: runs of letters or digits. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}
