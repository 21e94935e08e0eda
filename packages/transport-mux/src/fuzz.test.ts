/**
 * Fuzz: random, truncated and mutated byte streams sent to a mux server over raw sockets. The
 * process must not crash, every connection must end by itself (no timers in the test), every
 * connection that broke the protocol must be closed with a logged reason, and a good client must
 * still work afterwards. The PRNG is seeded: a failing case replays with the same FUZZ_SEED.
 */
import { connect } from 'node:net';
import { EchoRequest, FailRequest } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { encodeControl, encodePreface, encodeRequest } from './internal/codec.js';
import { FrameKind, HEADER_BYTES, MUX_PROTOCOL_VERSION, PREFACE_BYTES } from './protocol.js';
import { capturingLogger, echoClient, startEchoServer } from './testing/fixtures.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const CASES = Number(process.env.FUZZ_CASES ?? 3_000);
const PARALLEL = 40;

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ECHO = '/refront.testing.v1.EchoService/Echo';
const FAIL = '/refront.testing.v1.EchoService/Fail';

function validStream(rand: () => number): Buffer {
  const preface = encodePreface(MUX_PROTOCOL_VERSION, 1 << 20, 100);
  const md = {
    traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
    'x-refront-caller': 'fuzz',
    'x-k': 'v',
  };
  const echo = EchoRequest.encode({
    message: `hi ${Math.floor(rand() * 1000)}`,
    payload: Buffer.alloc(Math.floor(rand() * 64)),
  }).finish();
  const fail = FailRequest.encode({ status: 'NOT_FOUND', reason: 'FUZZ', message: 'x' }).finish();
  return Buffer.concat([
    preface,
    encodeRequest(1, 1, ECHO, 2_000, md, echo)!,
    encodeRequest(2, 2, FAIL, 2_000, {}, fail)!,
    encodeRequest(3, 1, undefined, 0, md, echo)!,
    encodeControl(FrameKind.PING, 7),
  ]);
}

type Kind = 'random' | 'truncated' | 'wrong-length' | 'huge-length' | 'bad-kind' | 'bad-utf8' | 'mutated';
const KINDS: readonly Kind[] = [
  'random',
  'truncated',
  'wrong-length',
  'huge-length',
  'bad-kind',
  'bad-utf8',
  'mutated',
];

/** One case: the bytes to send, and whether they certainly break the protocol. */
function makeCase(kind: Kind, rand: () => number): { bytes: Buffer; surelyBad: boolean } {
  const valid = validStream(rand);
  const firstFrame = PREFACE_BYTES;
  switch (kind) {
    case 'random': {
      const b = Buffer.alloc(1 + Math.floor(rand() * 300));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
      return { bytes: b, surelyBad: true };
    }
    case 'truncated': {
      // Cut inside a frame (never exactly on a frame boundary).
      const frameLen = valid.readUInt32BE(firstFrame) + 4;
      const cut = firstFrame + 1 + Math.floor(rand() * (frameLen - 1));
      return { bytes: valid.subarray(0, cut), surelyBad: true };
    }
    case 'wrong-length': {
      const b = Buffer.from(valid);
      const len = b.readUInt32BE(firstFrame);
      b.writeUInt32BE(Math.max(0, len + Math.floor(rand() * 40) - 20), firstFrame);
      return { bytes: b, surelyBad: false };
    }
    case 'huge-length': {
      const b = Buffer.from(valid);
      b.writeUInt32BE(0x00200000 + Math.floor(rand() * 0xffd00000), firstFrame);
      return { bytes: b, surelyBad: true };
    }
    case 'bad-kind': {
      const b = Buffer.from(valid);
      b[firstFrame + 4] = [0, 2, 3, 8, 9, 200, 255][Math.floor(rand() * 7)]!;
      return { bytes: b, surelyBad: true };
    }
    case 'bad-utf8': {
      const body = EchoRequest.encode({ message: 'x', payload: Buffer.alloc(0) }).finish();
      const frame = encodeRequest(1, 1, ECHO, 1_000, { 'x-bad': 'abcd' }, body)!;
      const at = frame.indexOf('abcd');
      frame[at + Math.floor(rand() * 4)] = [0xff, 0xc0, 0xe2, 0x80][Math.floor(rand() * 4)]!;
      return { bytes: Buffer.concat([valid.subarray(0, PREFACE_BYTES), frame]), surelyBad: true };
    }
    case 'mutated': {
      const b = Buffer.from(valid);
      const flips = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < flips; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      return { bytes: b, surelyBad: false };
    }
  }
}

/** Whether `back` is the server's preface followed by whole, well-formed answer frames. */
function answeredCleanly(back: Buffer): boolean {
  if (back.length < PREFACE_BYTES) return false;
  let at = PREFACE_BYTES;
  while (at < back.length) {
    if (back.length - at < HEADER_BYTES) return false;
    const kind = back[at + 4]!;
    if (
      kind !== FrameKind.RESPONSE &&
      kind !== FrameKind.ERROR &&
      kind !== FrameKind.PONG &&
      kind !== FrameKind.PING
    ) {
      return false;
    }
    at += 4 + back.readUInt32BE(at);
  }
  return at === back.length;
}

/** Sends `bytes`, half-closes, and resolves once the server closed the connection. */
function exchange(port: number, bytes: Buffer): Promise<{ localPort: number; back: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let localPort = 0;
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
      localPort = s.localPort!;
      s.end(bytes);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => s.end());
    s.on('error', () => {});
    s.on('close', () => resolve({ localPort, back: Buffer.concat(chunks) }));
  });
}

describe('mux server fuzz', () => {
  it(`survives ${CASES} random, truncated and mutated streams (seed ${SEED}) and keeps serving`, async () => {
    const cap = capturingLogger('info');
    await using env = await startEchoServer('fuzz', {
      logger: cap.logger,
      maxFrameBytes: 64 * 1024,
      handshakeTimeoutMs: 5_000,
    });
    const rand = prng(SEED);
    const cases = Array.from({ length: CASES }, (_, i) => {
      const kind = KINDS[i % KINDS.length]!;
      return { kind, ...makeCase(kind, rand) };
    });
    const outcomes: { kind: Kind; surelyBad: boolean; localPort: number; back: Buffer }[] = [];
    for (let i = 0; i < cases.length; i += PARALLEL) {
      const batch = cases.slice(i, i + PARALLEL);
      const done = await Promise.all(batch.map((c) => exchange(env.server.port, c.bytes)));
      for (const [j, d] of done.entries()) outcomes.push({ ...batch[j]!, ...d });
    }
    const reasons = new Map<string, string>();
    for (const line of cap.lines) {
      if (typeof line.peer === 'string' && typeof line.reason === 'string')
        reasons.set(line.peer, line.reason);
    }
    const byKind = new Map<Kind, { closedWithReason: number; answered: number }>();
    for (const o of outcomes) {
      const reason = reasons.get(`127.0.0.1:${o.localPort}`);
      const stats = byKind.get(o.kind) ?? { closedWithReason: 0, answered: 0 };
      byKind.set(o.kind, stats);
      if (reason) stats.closedWithReason++;
      else stats.answered++;
      if (o.surelyBad) expect(reason, `${o.kind} case on port ${o.localPort}`).toBeTruthy();
      // Whatever was not refused with a reason parsed as valid frames and was answered with whole frames.
      else if (!reason) expect(answeredCleanly(o.back), `${o.kind} case answered garbage`).toBe(true);
    }
    expect(outcomes).toHaveLength(CASES);
    for (const kind of KINDS) expect(byKind.get(kind)!.closedWithReason).toBeGreaterThan(0);
    await expect.poll(() => env.server.connections).toBe(0);
    expect(env.server.dispatcher.inflight).toBe(0);
    await using client = echoClient(env.address, { policy: false });
    expect((await client.echo({ message: 'still serving' })).message).toBe('still serving');
  }, 120_000);
});
