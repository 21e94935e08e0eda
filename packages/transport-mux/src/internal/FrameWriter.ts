import type { Socket } from 'node:net';
import { MAX_BATCH_BYTES, MAX_BATCH_FRAMES } from '../protocol.js';

function flushWriter(writer: FrameWriter): void {
  writer.flush();
}

/**
 * Write coalescing: frames written during one turn of the event loop leave in as few
 * `socket.write` calls as possible (at most {@link MAX_BATCH_FRAMES} frames or
 * {@link MAX_BATCH_BYTES} bytes each), flushed from `setImmediate`, so a burst of responses or
 * requests costs one syscall instead of one per frame.
 */
export class FrameWriter {
  private queue: Buffer[] = [];
  private scheduled = false;

  /** @param afterFlush runs after each flush (back-pressure checks). */
  constructor(
    private readonly socket: Socket,
    private readonly afterFlush?: () => void,
  ) {}

  /** Queues one encoded frame. */
  write(frame: Buffer): void {
    this.queue.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  /** Writes every queued frame now. */
  flush(): void {
    this.scheduled = false;
    const q = this.queue;
    const n = q.length;
    if (n === 0) return;
    this.queue = [];
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    if (n === 1) {
      socket.write(q[0]!);
    } else {
      socket.cork();
      let start = 0;
      let bytes = 0;
      for (let i = 0; i < n; i++) {
        const len = q[i]!.length;
        if (i > start && (i - start >= MAX_BATCH_FRAMES || bytes + len > MAX_BATCH_BYTES)) {
          socket.write(batch(q, start, i, bytes));
          start = i;
          bytes = 0;
        }
        bytes += len;
      }
      socket.write(batch(q, start, n, bytes));
      socket.uncork();
    }
    this.afterFlush?.();
  }
}

function batch(q: Buffer[], start: number, end: number, bytes: number): Buffer {
  if (end - start === 1) return q[start]!;
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (let i = start; i < end; i++) {
    const f = q[i]!;
    f.copy(out, at);
    at += f.length;
  }
  return out;
}
