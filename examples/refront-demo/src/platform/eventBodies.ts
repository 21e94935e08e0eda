import type { MessageType } from '@refront/core';
import { decodeEventBody } from '@refront/core/transport';
import type { ServiceModule } from './module.js';

/**
 * Decodes an event body from its contract, for the console's Dead letters view: the JSON of the
 * message type some module publishes or consumes, or undefined for a type no module declares
 * (the console then shows the raw bytes). Throws on a body the contract cannot read, which the
 * console also shows raw.
 *
 * @example
 * createConsole({ decodeBody: eventBodyDecoder(PLATFORM_MODULES) });
 */
export function eventBodyDecoder(
  modules: readonly ServiceModule[],
): (type: string, contentType: string, body: Uint8Array) => unknown {
  const eventTypes = new Map<string, MessageType<unknown>>();
  for (const m of modules) {
    for (const t of [...(m.events?.publishes ?? []), ...(m.events?.consumes ?? [])]) {
      eventTypes.set(t.$type, t as MessageType<unknown>);
    }
  }
  return (type, contentType, body) => {
    const messageType = eventTypes.get(type);
    return messageType ? messageType.toJSON(decodeEventBody(messageType, contentType, body)) : undefined;
  };
}
