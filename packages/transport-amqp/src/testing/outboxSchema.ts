/** Migrations of the outbox crash test's service database, shared by the test and its child. */
export const OUTBOX_TEST_MIGRATIONS = [
  { version: 1, name: 'orders', sql: 'create table orders (id text primary key)' },
  // No unique key: a second shipment of one order shows as a second row.
  { version: 2, name: 'shipments', sql: 'create table shipments (order_id text not null)' },
];
