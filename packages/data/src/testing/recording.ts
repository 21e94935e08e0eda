import { Writable } from 'node:stream';
import type { EventBus } from '@refront/core';
import type { EventEnvelope } from '@refront/core/transport';

/** A publisher that records what it is given and can be told to fail. */
export class RecordingPublisher implements Pick<EventBus, 'publishRaw'> {
  readonly published: { envelope: EventEnvelope; body: Uint8Array }[] = [];
  /** Calls left that fail before publishing works again. */
  failNext = 0;
  attempts = 0;

  async publishRaw(envelope: EventEnvelope, body: Uint8Array): Promise<void> {
    this.attempts++;
    await new Promise((r) => setImmediate(r));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker unavailable');
    }
    this.published.push({ envelope, body });
  }
}

/** A pino destination keeping parsed lines. */
export function logSink(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}
