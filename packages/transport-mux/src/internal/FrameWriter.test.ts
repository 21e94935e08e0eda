import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, MAX_BATCH_FRAMES } from '../protocol.js';
import { FrameWriter } from './FrameWriter.js';

/** A socket that records each write (one write is one syscall batch). */
function recorder(): { socket: Socket; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = { destroyed: false, writable: true, write: (b: Buffer) => writes.push(b) };
  return { socket: socket as unknown as Socket, writes };
}

const frame = (n: number, size = 10): Buffer => Buffer.alloc(size, n);
const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('FrameWriter', () => {
  it('coalesces the frames of one turn into one write, after the turn', async () => {
    const { socket, writes } = recorder();
    const w = new FrameWriter(socket);
    for (let i = 0; i < 3; i++) w.write(frame(i));
    expect(writes).toHaveLength(0);
    await tick();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toEqual(Buffer.concat([frame(0), frame(1), frame(2)]));
  });

  it('sends a full batch at once, so the peer starts on it while the rest is produced', async () => {
    const { socket, writes } = recorder();
    const w = new FrameWriter(socket);
    for (let i = 0; i < MAX_BATCH_FRAMES + 3; i++) w.write(frame(i));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.length).toBe(MAX_BATCH_FRAMES * 10);
    await tick();
    expect(writes).toHaveLength(2);
    expect(writes[1]?.length).toBe(3 * 10);
  });

  it('sends at once when the batch reaches its byte bound', () => {
    const { socket, writes } = recorder();
    const w = new FrameWriter(socket);
    w.write(frame(1, MAX_BATCH_BYTES - 5));
    expect(writes).toHaveLength(0);
    w.write(frame(2, 10));
    expect(writes).toHaveLength(1);
  });

  it('drops frames queued for a destroyed socket', async () => {
    const { socket, writes } = recorder();
    const w = new FrameWriter(socket);
    w.write(frame(1));
    (socket as unknown as { destroyed: boolean }).destroyed = true;
    await tick();
    expect(writes).toHaveLength(0);
  });
});
