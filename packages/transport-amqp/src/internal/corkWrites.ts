import type { ChannelModel } from 'amqplib';

/** The part of amqplib's connection `corkWrites` relies on (amqplib 0.10 and 2.x). */
interface MuxInternals {
  out: { cork(): void; uncork(): void };
  _readIncoming(): void;
}

const CORKED = Symbol('refront.amqp.corked');

function muxOf(model: ChannelModel): MuxInternals | undefined {
  const mux = (model as unknown as { connection?: { muxer?: Partial<MuxInternals> } }).connection?.muxer;
  if (
    typeof mux?._readIncoming !== 'function' ||
    typeof mux.out?.cork !== 'function' ||
    typeof mux.out.uncork !== 'function'
  )
    return undefined;
  return mux as MuxInternals;
}

/**
 * Makes `model`'s connection write each burst of frames with one `writev` instead of one `write`
 * per frame. amqplib's muxer moves frames from the channels to the socket in a loop it runs once
 * per turn (`setImmediate`), writing each frame on its own: one syscall per published message and
 * per ack. Corking the socket for the loop batches them (decision 0044). Flow control is
 * unchanged: the socket's `write` still returns false past its high-water mark, the loop stops,
 * and `drain` resumes it after the uncorked batch is written. Heartbeats and connection methods,
 * written outside the loop, are not delayed.
 *
 * @returns whether the connection was corked (false for an amqplib without these internals).
 */
export function corkWrites(model: ChannelModel): boolean {
  const mux = muxOf(model);
  if (!mux) return false;
  const target = mux as MuxInternals & { [CORKED]?: true };
  if (target[CORKED]) return true;
  const read = mux._readIncoming;
  mux._readIncoming = function readCorked(this: MuxInternals): void {
    const out = this.out;
    out.cork();
    try {
      read.call(this);
    } finally {
      out.uncork();
    }
  };
  target[CORKED] = true;
  return true;
}
