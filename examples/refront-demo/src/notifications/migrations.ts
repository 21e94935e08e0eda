import type { Migration } from '@refront/data';

/** Schema of the notifications service. SQL valid on PostgreSQL 15 and on PGlite. */
export const notificationsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'notifications and sent mail',
    sql: `
      create table notifications (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        kind text not null check (kind in ('invoice_issued', 'ticket_urgent', 'ticket_resolved')),
        subject_id text not null,
        recipient text not null,
        subject text not null,
        body text not null,
        event_id text not null,
        status text not null default 'pending' check (status in ('pending', 'sent')),
        attempts integer not null default 0,
        last_error text not null default '',
        created_at timestamptz not null default now(),
        sent_at timestamptz,
        -- One notification per fact, whatever the number of events (or event ids) telling it.
        unique (tenant_id, kind, subject_id)
      );
      create index notifications_by_tenant on notifications (tenant_id, seq desc);
      create index notifications_pending on notifications (seq) where status = 'pending';

      -- What the default mail sender "sent": one row per notification id.
      create table sent_mail (
        message_id text primary key,
        tenant_id text not null,
        recipient text not null,
        subject text not null,
        body text not null,
        sent_at timestamptz not null default now()
      );
    `,
  },
  {
    version: 2,
    name: 'claim before send, mail over SMTP',
    sql: `
      -- A sender claims a pending notification (compare-and-set on these two columns) before it
      -- sends; the claim lapses at claimed_until, so a crashed instance's claim is taken over.
      alter table notifications add column claimed_by text;
      alter table notifications add column claimed_until timestamptz;
      -- The instance whose send was marked sent.
      alter table notifications add column sent_by text;
      -- Mail goes out over SMTP now; the table the old default sender wrote is gone.
      drop table sent_mail;
    `,
  },
];
