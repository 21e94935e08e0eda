import type { MessageValidator } from '@refront/core';
import { createContractValidator } from '@refront/validate';
import { FILE_DESCRIPTOR_SET } from '../gen/descriptors.js';

let shared: MessageValidator | undefined;

/**
 * The validator of the demo's contracts: every request a service serves and every event it
 * consumes is checked against the `buf.validate` rules of `proto/` before its handler, in the
 * monolith and distributed alike (docs/contracts.md). One per process: the rules compile once.
 *
 * @example
 * const server = createGrpcServer({ service: 'tickets', logger, validator: demoValidator() });
 */
export function demoValidator(): MessageValidator {
  shared ??= createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });
  return shared;
}
