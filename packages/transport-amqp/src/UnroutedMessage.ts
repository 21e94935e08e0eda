import type { ChannelModel } from 'amqplib';

/** An event parked in `<ns>.unrouted`: no binding of its exchange matched its routing key. */
export interface UnroutedMessage {
  /** The exchange it was published to (the broker keeps it through the alternate exchange). */
  readonly exchange: string;
  /** Its routing key (the event type, for events the bus published). */
  readonly routingKey: string;
  /** `message-id`: the envelope id inboxes dedupe on. */
  readonly messageId: string | undefined;
  /** `type` property: the fully-qualified event type. */
  readonly type: string | undefined;
  /** `app-id` property: the publishing service. */
  readonly source: string | undefined;
  /**
   * `user-id` property: the broker user that published it, validated by the broker (decision
   * 0048); undefined when the publisher set none. Replay keeps it, so only this user can replay it.
   */
  readonly publisherUser: string | undefined;
  /** `content-type` property. */
  readonly contentType: string | undefined;
  /** AMQP headers as published. */
  readonly headers: Readonly<Record<string, unknown>>;
  /** The body as published. */
  readonly body: Uint8Array;
}

/** Where the parked queue is and how much of it to read. */
export interface UnroutedQueueOptions {
  /** Broker URL; a connection is opened for the call and closed after. Give this or `connection`. */
  readonly url?: string;
  /** An open amqplib connection to use (left open). Give this or `url`. */
  readonly connection?: ChannelModel;
  /** The bus namespace. @default DEFAULT_NAMESPACE ('refront') */
  readonly namespace?: string;
  /** Messages read at most. @default all the queue holds when the call starts */
  readonly limit?: number;
  /** Stops between messages once aborted. */
  readonly signal?: AbortSignal;
}
