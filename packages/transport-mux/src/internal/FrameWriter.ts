import type { Socket } from 'node:net';
import { MAX_BATCH_BYTES, MAX_BATCH_FRAMES } from '../protocol.js';

function flushWriter(writer: FrameWriter): void {
  writer.flushScheduled();
}

/**
 * Write coalescing with a bounded batch: frames written during one turn of the event loop leave
 * together, so a burst of requests or responses costs one syscall per batch instead of one per
 * frame. A batch leaves as soon as it holds {@link MAX_BATCH_FRAMES} frames or
 * {@link MAX_BATCH_BYTES} bytes, so the peer starts on the first batch while this side still
 * produces the next one (a single unbounded batch per turn would make both sides take turns
 * idling); whatever remains leaves from `process.nextTick`, once the callback and the promise
 * reactions that wrote it have run (every response a burst of handlers resolves together).
 */
export class FrameWriter {
  private queue: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  /** @param afterFlush runs after each flush (back-pressure checks). */
  constructor(
    private readonly socket: Socket,
    private readonly afterFlush?: () => void,
  ) {}

  /** Queues one encoded frame; sends the batch now when it is full. */
  write(frame: Buffer): void {
    const q = this.queue;
    q.push(frame);
    this.bytes += frame.length;
    if (q.length >= MAX_BATCH_FRAMES || this.bytes >= MAX_BATCH_BYTES) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(flushWriter, this);
    }
  }

  /** The end-of-turn flush. @internal */
  flushScheduled(): void {
    this.scheduled = false;
    this.flush();
  }

  /** Writes every queued frame now. */
  flush(): void {
    const q = this.queue;
    const n = q.length;
    if (n === 0) return;
    const bytes = this.bytes;
    this.queue = [];
    this.bytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    socket.write(n === 1 ? (q[0] as Buffer) : Buffer.concat(q, bytes));
    this.afterFlush?.();
  }
}
