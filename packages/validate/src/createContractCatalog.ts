import type { DescMessage, DescService, Message } from '@bufbuild/protobuf';
import { MethodOptions_IdempotencyLevel } from '@bufbuild/protobuf/wkt';
import type { MessageType, ServiceDefinition } from '@refront/core';
import type { MethodDefinition } from '@refront/core/transport';
import { ValidateErrors } from './errors.js';
import { dynamicMessageType } from './internal/dynamicMessageType.js';
import { loadRegistry } from './internal/loadRegistry.js';
import { skeletonOf } from './internal/skeleton.js';

/** Options of {@link createContractCatalog}. */
export interface ContractCatalogOptions {
  /**
   * The contracts: google.protobuf.FileDescriptorSets, base64 (`FILE_DESCRIPTOR_SET` of
   * `gen/descriptors.ts`) or bytes (`buf build -o set.binpb`); imports of buf.validate and the
   * well-known types may be left out.
   */
  readonly descriptors: readonly (string | Uint8Array)[];
}

/** One method of a contract, as the catalog describes it. */
export interface ContractMethod {
  /** The fully-qualified service (`refront.tickets.v1.TicketsService`). */
  readonly service: string;
  /** The method's protobuf name (`CreateTicket`). */
  readonly name: string;
  /** Its key in {@link ContractService.definition}'s methods (`createTicket`). */
  readonly key: string;
  /** `/refront.tickets.v1.TicketsService/CreateTicket`. */
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  /** Whether it streams either way (a client calls unary methods only). */
  readonly streaming: boolean;
  /** Declared `NO_SIDE_EFFECTS` or `IDEMPOTENT`. */
  readonly idempotent: boolean;
}

/** One service of a contract. */
export interface ContractService {
  /** `refront.tickets.v1.TicketsService`. */
  readonly fullName: string;
  /** The Refront service it belongs to, from its package: `refront.billing_alerts.v1.X` → `billing-alerts`. */
  readonly owner: string;
  readonly methods: readonly ContractMethod[];
  /**
   * A definition for `createClient` on any channel (in-process, gRPC, mux), with codecs made from
   * the descriptors: requests and responses are protobuf-es messages, in and out through
   * `fromJSON`/`toJSON` (protobuf's JSON mapping).
   */
  readonly definition: ServiceDefinition;
}

/** The services and messages of a set of contracts, read from their descriptors. */
export interface ContractCatalog {
  /** Every service, by full name. */
  readonly services: readonly ContractService[];
  /**
   * The method `<service>/<method>` names: the service in full or as its Refront name
   * (`time-tracking/LogTime`, `timetracking/logTime`).
   * @throws RefrontError NOT_FOUND `VALIDATE_CONTRACT_NOT_FOUND`, INVALID_ARGUMENT when ambiguous.
   */
  find(target: string): { readonly service: ContractService; readonly method: ContractMethod };
  /** A JSON skeleton of a message (every field with a typed placeholder). @throws NOT_FOUND */
  skeleton(typeName: string): Record<string, unknown>;
  /**
   * The request of `method` from JSON text, checked against its contract.
   * @throws RefrontError INVALID_ARGUMENT `VALIDATE_INVALID_JSON` when the text is not JSON, not an
   *   object, or does not fit the message (unknown field, wrong type).
   */
  requestFromJson(method: ContractMethod, text: string): Message;
  /** A codec of any message of the contracts. @throws NOT_FOUND */
  messageType(typeName: string): MessageType<Message>;
}

/**
 * Reads a catalog of contracts from their descriptor sets: the services with their methods, a
 * client definition per service made from the descriptors (no generated code needed), JSON
 * skeletons of messages. What `refront call` and the console's API explorer call through.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when a set does not load.
 * @example
 * const catalog = createContractCatalog({ descriptors: [FILE_DESCRIPTOR_SET] });
 * const { service, method } = catalog.find('tickets/GetTicket');
 * const client = createClient(service.definition, channel, { caller: 'console' });
 * const reply = await client[method.key]!(catalog.requestFromJson(method, '{"id":"…"}'));
 */
export function createContractCatalog(options: ContractCatalogOptions): ContractCatalog {
  const registry = loadRegistry(options.descriptors);
  const types = new Map<string, MessageType<Message>>();
  const typeOf = (schema: DescMessage): MessageType<Message> => {
    const known = types.get(schema.typeName);
    if (known) return known;
    const made = dynamicMessageType(schema, registry);
    types.set(schema.typeName, made);
    return made;
  };
  const services: ContractService[] = [];
  for (const desc of registry) {
    if (desc.kind === 'service' && !desc.typeName.startsWith('google.') && !desc.typeName.startsWith('grpc.'))
      services.push(serviceOf(desc, typeOf));
  }
  services.sort((a, b) => a.fullName.localeCompare(b.fullName));
  const schema = (typeName: string): DescMessage => {
    const s = registry.getMessage(typeName);
    if (!s) throw ValidateErrors.CONTRACT_NOT_FOUND(`message ${typeName}`, 'the descriptor sets lack it');
    return s;
  };
  return {
    services,
    find: (target) => find(services, target),
    skeleton: (typeName) => skeletonOf(schema(typeName)),
    messageType: (typeName) => typeOf(schema(typeName)),
    requestFromJson(method, text) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e: unknown) {
        throw ValidateErrors.INVALID_JSON(method.requestType, e instanceof Error ? e.message : String(e));
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw ValidateErrors.INVALID_JSON(method.requestType, 'the request is not a JSON object');
      try {
        return typeOf(schema(method.requestType)).fromJSON(parsed);
      } catch (e: unknown) {
        throw ValidateErrors.INVALID_JSON(method.requestType, e instanceof Error ? e.message : String(e));
      }
    },
  };
}

function serviceOf(desc: DescService, typeOf: (s: DescMessage) => MessageType<Message>): ContractService {
  const methods: ContractMethod[] = [];
  const definitions: Record<string, MethodDefinition<Message, Message>> = {};
  for (const m of desc.methods) {
    const idempotencyLevel =
      m.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS
        ? 'NO_SIDE_EFFECTS'
        : m.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
          ? 'IDEMPOTENT'
          : undefined;
    const key = m.name.charAt(0).toLowerCase() + m.name.slice(1);
    const streaming = m.methodKind !== 'unary';
    methods.push({
      service: desc.typeName,
      name: m.name,
      key,
      path: `/${desc.typeName}/${m.name}`,
      requestType: m.input.typeName,
      responseType: m.output.typeName,
      streaming,
      idempotent: idempotencyLevel !== undefined,
    });
    definitions[key] = {
      name: m.name,
      requestType: typeOf(m.input),
      responseType: typeOf(m.output),
      requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
      options: idempotencyLevel ? { idempotencyLevel } : {},
    };
  }
  return {
    fullName: desc.typeName,
    owner: ownerOf(desc.typeName),
    methods,
    definition: { name: desc.name, fullName: desc.typeName, methods: definitions },
  };
}

/** The Refront service a gRPC service belongs to: `refront.billing_alerts.v1.X` → `billing-alerts`. */
function ownerOf(fullName: string): string {
  return (fullName.split('.')[1] ?? fullName).replaceAll('_', '-');
}

function find(
  services: readonly ContractService[],
  target: string,
): { service: ContractService; method: ContractMethod } {
  const slash = target.lastIndexOf('/');
  if (slash <= 0 || slash === target.length - 1)
    throw ValidateErrors.CONTRACT_NOT_FOUND(target, 'name it <service>/<method> (e.g. tickets/GetTicket)');
  const serviceArg = target.slice(0, slash).replace(/^\//, '');
  const methodArg = target.slice(slash + 1);
  const flat = (s: string) => s.replaceAll('-', '').toLowerCase();
  const exact = services.find((s) => s.fullName === serviceArg);
  const matches = exact
    ? [exact]
    : services.filter((s) => flat(s.owner) === flat(serviceArg) || s.fullName.endsWith(`.${serviceArg}`));
  const service = matches[0];
  if (!service)
    throw ValidateErrors.CONTRACT_NOT_FOUND(
      `service ${serviceArg}`,
      `the contracts have ${services.map((s) => s.fullName).join(', ')}`,
    );
  if (matches.length > 1)
    throw ValidateErrors.AMBIGUOUS_SERVICE(
      serviceArg,
      matches.map((s) => s.fullName),
    );
  const method = service.methods.find(
    (m) => m.name === methodArg || m.key === methodArg || m.name.toLowerCase() === methodArg.toLowerCase(),
  );
  if (!method)
    throw ValidateErrors.CONTRACT_NOT_FOUND(
      `method ${service.fullName}/${methodArg}`,
      `it has ${service.methods.map((m) => m.name).join(', ')}`,
    );
  return { service, method };
}
