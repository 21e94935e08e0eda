/**
 * The bare-amqplib side of the AMQP benchmark: what a careful user writes by hand with a confirm
 * channel (a window of unconfirmed publishes, waiting for drain) and a consumer that acks each
 * message. Same properties and body as Refront sends, so only the wrapper differs.
 */
import type { ConfirmChannel, Options } from 'amqplib';

/** Publishes `count` messages (each body encoded as it goes) keeping at most `window` unconfirmed; resolves when all are confirmed. */
export function barePublishMany(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: () => Buffer,
  props: () => Options.Publish,
  count: number,
  window: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let sent = 0;
    let confirmed = 0;
    let unconfirmed = 0;
    let writable = true;
    const onDrain = () => {
      writable = true;
      pump();
    };
    const finish = (err?: unknown) => {
      ch.off('drain', onDrain);
      if (err) reject(err);
      else resolve();
    };
    const pump = () => {
      while (writable && unconfirmed < window && sent < count) {
        sent++;
        unconfirmed++;
        writable = ch.publish(exchange, routingKey, body(), props(), (err: unknown) => {
          if (err) return finish(err);
          unconfirmed--;
          confirmed++;
          if (confirmed === count) finish();
          else pump();
        });
      }
    };
    // Removed when done, so rounds do not pile up listeners on the shared channel.
    ch.on('drain', onDrain);
    pump();
  });
}

/** One awaited confirmed publish. */
export function barePublishOne(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: Buffer,
  props: Options.Publish,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ch.publish(exchange, routingKey, body, props, (err: unknown) => (err ? reject(err) : resolve()));
  });
}
