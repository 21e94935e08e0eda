/**
 * What checking a message against its contract's rules costs (docs/decisions/0013): the strict
 * decode every lane runs anyway, alone and followed by `@refront/validate`'s check (the ts-proto
 * message encoded again, decoded into a protobuf-es message of the same descriptor, then
 * protovalidate), and a served in-process call through the dispatcher with and without a
 * validator. `EchoRequest` has one rule (`message` at most 4096 characters); a type without
 * rules gets no check at all, so it costs nothing per message.
 */
import { createLogger, type MessageValidator } from '@refront/core';
import { createDispatcher, decodeMessage } from '@refront/core/transport';
import { EchoRequest, EchoServiceDefinition, FILE_DESCRIPTOR_SET } from '@refront/test-contracts';
import { createContractValidator } from '@refront/validate';
import { echoImpl } from '../echoImpl.js';
import { compareSequential, printTable } from '../measure.js';

const ITERATIONS = 100_000;
const ROUNDS = 5;

export default async function validation(): Promise<void> {
  const validator: MessageValidator = createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });
  const check = validator.checkFor(EchoRequest)!;
  const request = EchoRequest.fromPartial({
    message: 'hello, validated world',
    payload: Buffer.alloc(64, 1),
  });
  const bytes = EchoRequest.encode(request).finish();

  console.log('\nOne EchoRequest (one rule): the strict decode alone, and followed by the contract check');
  printTable(
    await compareSequential(
      {
        decode: async () => decodeMessage(EchoRequest, bytes),
        'decode + check': async () => check(decodeMessage(EchoRequest, bytes)),
        'check alone': async () => check(request),
      },
      { iterations: ITERATIONS, rounds: ROUNDS, warmup: 20_000 },
    ),
    'decode',
  );

  const logger = createLogger({ service: 'bench', level: 'silent' });
  const plain = createDispatcher({ service: 'echo', logger, system: 'bench' });
  const checked = createDispatcher({ service: 'echo', logger, system: 'bench', validator });
  plain.add(EchoServiceDefinition, echoImpl);
  checked.add(EchoServiceDefinition, echoImpl);
  const path = `/${EchoServiceDefinition.fullName}/Echo`;
  const inbound = { request, metadata: {}, deadline: undefined };
  console.log(
    '\nA served Echo call (dispatcher and default chain, no transport), with and without a validator',
  );
  printTable(
    await compareSequential(
      {
        'no validator': () => plain.invoke(path, inbound),
        validator: () => checked.invoke(path, inbound),
      },
      { iterations: ITERATIONS, rounds: ROUNDS, warmup: 20_000 },
    ),
    'no validator',
  );
}
