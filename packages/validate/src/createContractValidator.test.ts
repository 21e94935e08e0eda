import { create, toBinary } from '@bufbuild/protobuf';
import { base64Encode } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { CoreReason, isRefrontError, type MessageType } from '@refront/core';
import {
  EchoRequest,
  EchoResponse,
  FailRequest,
  FILE_DESCRIPTOR_SET,
  SleepRequest,
  ThingHappened,
} from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createContractValidator } from './createContractValidator.js';

const validator = createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e: unknown) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('createContractValidator', () => {
  it('names the field, what is wrong and the rule id of each violation', () => {
    const check = validator.checkFor(EchoRequest);
    expect(check?.({ message: 'x'.repeat(4097), payload: Buffer.alloc(0) })).toEqual([
      { field: 'message', description: 'must be at most 4096 characters', reason: 'string.max_len' },
    ]);
    expect(validator.checkFor(SleepRequest)?.({ durationMs: 600_001 })).toEqual([
      { field: 'duration_ms', description: 'must be less than or equal to 600000', reason: 'uint32.lte' },
    ]);
    expect(validator.checkFor(ThingHappened)?.({ id: '', sequence: 1, note: '' })).toEqual([
      { field: 'id', description: 'must be at least 1 characters', reason: 'string.min_len' },
    ]);
  });

  it('finds no violation in a message that keeps the rules', () => {
    const check = validator.checkFor(EchoRequest);
    expect(check?.({ message: 'x'.repeat(4096), payload: Buffer.from('any') })).toEqual([]);
    expect(validator.checkFor(SleepRequest)?.({ durationMs: 600_000 })).toEqual([]);
  });

  it('has no check for a type whose contract has no rules', () => {
    expect(validator.checkFor(EchoResponse)).toBeUndefined();
    expect(validator.checkFor(FailRequest)).toBeUndefined();
  });

  it('refuses a type missing from its descriptor sets with CORE_INVALID_OPTION', () => {
    const unknown = { ...EchoRequest, $type: 'refront.testing.v1.Missing' } as MessageType<EchoRequest>;
    const e = thrown(() => validator.checkFor(unknown));
    expect(isRefrontError(e) && [e.status, e.reason]).toEqual([
      'INVALID_ARGUMENT',
      CoreReason.INVALID_OPTION,
    ]);
    expect((e as Error).message).toContain('refront.testing.v1.Missing');
  });

  it('refuses descriptors that are not a FileDescriptorSet', () => {
    const e = thrown(() => createContractValidator({ descriptors: ['not base64 of a set!'] }));
    expect(isRefrontError(e) && e.reason).toBe(CoreReason.INVALID_OPTION);
  });

  it('refuses a set whose imports no set holds', () => {
    const orphan = create(FileDescriptorSetSchema, {
      file: [
        { name: 'orphan.proto', package: 'orphan', dependency: ['missing/dep.proto'], syntax: 'proto3' },
      ],
    });
    const e = thrown(() =>
      createContractValidator({ descriptors: [base64Encode(toBinary(FileDescriptorSetSchema, orphan))] }),
    );
    expect(isRefrontError(e) && e.reason).toBe(CoreReason.INVALID_OPTION);
    expect((e as Error).message).toContain('missing/dep.proto');
  });
});
