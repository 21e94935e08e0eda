import type { ServiceNames } from './names.js';

/**
 * The import lines of a generated file. Each is a string of its own, not a line of a template:
 * the workspace check (scripts/test/workspaces.test.ts) reads every `import` at a line start as
 * an import of this package.
 */
function lines(...imports: string[]): string {
  return imports.join('\n');
}

/** What the templates of a new service need besides its names. */
export interface TemplateContext {
  readonly names: ServiceNames;
  /** The first segment of the workspace's protobuf packages (`refront`). */
  readonly protoRoot: string;
  /** Whether the workspace's contracts use protovalidate (`buf/validate/validate.proto`). */
  readonly validate: boolean;
}

/** The `.proto` contract of a new service: two methods and the event it publishes. */
export function protoTemplate({ names, protoRoot, validate }: TemplateContext): string {
  const rule = (r: string) => (validate ? ` [${r}]` : '');
  return `syntax = "proto3";

package ${protoRoot}.${names.protoPackage}.v1;

${lines(...(validate ? ['import "buf/validate/validate.proto";'] : []), 'import "google/protobuf/timestamp.proto";')}

// ${names.pascal}Service keeps the items of the ${names.name} service (made by refront new service:
// replace them with its own contract).
service ${names.pascal}Service {
  // CreateItem stores an item and publishes ItemCreated.
  rpc CreateItem(CreateItemRequest) returns (CreateItemResponse);
  // GetItem reads one item; an unknown id is NOT_FOUND.
  rpc GetItem(GetItemRequest) returns (GetItemResponse) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
}

// Item is one stored item of a tenant.
message Item {
  string id = 1;
  string name = 2;
  google.protobuf.Timestamp created_at = 3;
}

message CreateItemRequest {
  // 1 to 200 characters.
  string name = 1${rule('(buf.validate.field).string = {\n    min_len: 1\n    max_len: 200\n  }')};
}

message CreateItemResponse {
  Item item = 1;
}

message GetItemRequest {
  string id = 1${rule('(buf.validate.field).string.uuid = true')};
}

message GetItemResponse {
  Item item = 1;
}

// ItemCreated is published once an item is stored.
message ItemCreated {
  string item_id = 1${rule('(buf.validate.field).string.uuid = true')};
  string name = 2;
}
`;
}

/** The migrations of a new service. */
export function migrationsTemplate({ names }: TemplateContext): string {
  return `${lines("import type { Migration } from '@refront/data';")}

/** Schema of the ${names.name} service. SQL valid on PostgreSQL 15 and on PGlite. */
export const ${names.camel}Migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'items',
    sql: \`
      create table items (
        id text primary key,
        tenant_id text not null,
        name text not null,
        created_at timestamptz not null default now()
      );
      create index items_by_tenant on items (tenant_id, created_at desc);
    \`,
  },
];
`;
}

/** The module of a new service: its handlers, its table, its outbox. */
export function moduleTemplate({ names, protoRoot }: TemplateContext): string {
  const gen = `../gen/${protoRoot}/${names.protoPackage}/v1/${names.protoPackage}.js`;
  return `${lines(
    "import { randomUUID } from 'node:crypto';",
    "import { RefrontError } from '@refront/core';",
    "import type { ModuleRuntime, ServiceModule } from '@refront/data';",
    "import { requireTenant, Violations } from '@refront/validate';",
    `import { type Item, ItemCreated, ${names.pascal}ServiceDefinition } from '${gen}';`,
    `import { ${names.camel}Migrations } from './migrations.js';`,
  )}

interface ItemRow {
  id: string;
  name: string;
  created_at: Date;
}

/**
 * The ${names.name} service: stores items per tenant and publishes ItemCreated through its outbox,
 * in the transaction that stores the item (made by \`refront new service\`).
 */
export const ${names.camel}Module: ServiceModule = {
  name: '${names.name}',
  callers: { gateway: '*' },
  events: { publishes: [ItemCreated], consumes: [] },
  migrations: ${names.camel}Migrations,
  async register({ server, db, outbox }: ModuleRuntime) {
    server.add(${names.pascal}ServiceDefinition, {
      async createItem(request, ctx) {
        const tenant = requireTenant(ctx);
        new Violations()
          .required('name', request.name)
          .check(request.name.length > 200, 'name', 'must be at most 200 characters')
          .throwIfAny('${names.upper}_INVALID_ITEM', 'the item is invalid');
        return db.transaction(async (tx) => {
          const { rows } = await tx.query<ItemRow>(
            'insert into items (id, tenant_id, name) values ($1, $2, $3) returning id, name, created_at',
            [randomUUID(), tenant, request.name],
          );
          const item = toItem(rows[0] as ItemRow);
          await outbox.add(tx, ItemCreated, { itemId: item.id, name: item.name }, { key: item.id });
          return { item };
        });
      },

      async getItem(request, ctx) {
        const tenant = requireTenant(ctx);
        const { rows } = await db.query<ItemRow>(
          'select id, name, created_at from items where tenant_id = $1 and id = $2',
          [tenant, request.id],
        );
        const row = rows[0];
        if (!row)
          throw new RefrontError('NOT_FOUND', '${names.upper}_ITEM_NOT_FOUND', \`item \${request.id} does not exist\`, {
            retryable: false,
          });
        return { item: toItem(row) };
      },
    });
  },
};

function toItem(r: ItemRow): Item {
  return { id: r.id, name: r.name, createdAt: r.created_at };
}
`;
}

/** The test of a new service, on `@refront/testing` (in-process transport and bus, embedded database). */
export function testTemplate({ names, protoRoot }: TemplateContext): string {
  const gen = `../gen/${protoRoot}/${names.protoPackage}/v1/${names.protoPackage}.js`;
  return `${lines(
    "import { rejection, startTestApp, type TestApp } from '@refront/testing';",
    "import { createContractValidator } from '@refront/validate';",
    "import { afterAll, beforeAll, describe, expect, it } from 'vitest';",
    "import { FILE_DESCRIPTOR_SET } from '../gen/descriptors.js';",
    `import { ItemCreated, ${names.pascal}ServiceDefinition } from '${gen}';`,
    `import { ${names.camel}Module } from './module.js';`,
  )}

let app: TestApp;

beforeAll(async () => {
  // The contracts' buf.validate rules checked on every request and event, as the hosts do.
  const validator = createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });
  app = await startTestApp({ modules: [${names.camel}Module], validator });
});
afterAll(() => app?.close());

describe('${names.name}', () => {
  it('stores an item, reads it back and publishes ItemCreated once', async () => {
    const client = app.client(${names.pascal}ServiceDefinition, { tenant: 'acme' });
    const { item } = await client.createItem({ name: 'first' });
    expect(item?.name).toBe('first');
    const read = await client.getItem({ id: item?.id ?? '' });
    expect(read.item).toEqual(item);
    const { event } = await app.events.waitFor(ItemCreated, (e) => e.itemId === item?.id);
    expect(event).toEqual({ itemId: item?.id, name: 'first' });
    await app.settled();
    expect(app.events.of(ItemCreated, (e) => e.itemId === item?.id)).toHaveLength(1);
  });

  it('keeps tenants apart: another tenant does not find the item', async () => {
    const { item } = await app.client(${names.pascal}ServiceDefinition, { tenant: 'acme' }).createItem({ name: 'mine' });
    const other = app.client(${names.pascal}ServiceDefinition, { tenant: 'globex' });
    const error = await rejection(other.getItem({ id: item?.id ?? '' }));
    expect([error.status, error.reason]).toEqual(['NOT_FOUND', '${names.upper}_ITEM_NOT_FOUND']);
  });
});
`;
}
