import { create, type DescExtension, fromBinary } from '@bufbuild/protobuf';
import { pathToString } from '@bufbuild/protobuf/reflect';
import { createValidator, type Violation } from '@bufbuild/protovalidate';
import type { FieldViolation, MessageType, MessageValidator } from '@refront/core';
import { encodeMessage, invalidOption, type MessageCheck } from '@refront/core/transport';
import { ValidateErrors } from './errors.js';
import { hasRules } from './hasRules.js';
import { loadRegistry } from './internal/loadRegistry.js';

/** Options of {@link createContractValidator}. */
export interface ContractValidatorOptions {
  /**
   * The contracts, each a google.protobuf.FileDescriptorSet in base64 (what `npm run proto:gen`
   * writes to `gen/descriptors.ts` as `FILE_DESCRIPTOR_SET`, or `buf build -o set.binpb` in
   * base64). Their imports of `buf/validate/validate.proto` and of google/protobuf's
   * well-known types are resolved here, so a set may leave them out (`--exclude-imports`).
   */
  readonly descriptors: readonly string[];
}

const NONE: readonly FieldViolation[] = Object.freeze([]);

/**
 * A {@link MessageValidator} that enforces the protovalidate (`buf.validate`) rules of the
 * contracts' `.proto` files with `@bufbuild/protovalidate`. A message is checked as the bytes it
 * encodes to, decoded into a protobuf-es message of the same descriptor (protovalidate works on
 * those, not on ts-proto's objects). Messages whose contract has no rules cost nothing.
 *
 * Violations name the field by its protobuf path (`lines[0].amount`), say what is wrong, and
 * carry protovalidate's rule id (`string.uuid`) as their `reason`.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when a descriptor set does not
 *   decode or an import cannot be resolved; later, from `checkFor`, when a type is missing from
 *   the sets or its rules do not compile.
 * @example
 * import { FILE_DESCRIPTOR_SET } from './gen/descriptors.js';
 * const validator = createContractValidator({ descriptors: [FILE_DESCRIPTOR_SET] });
 * const server = createGrpcServer({ service: 'tickets', logger, validator });
 */
export function createContractValidator(options: ContractValidatorOptions): MessageValidator {
  const registry = loadRegistry(options.descriptors);
  const extensions = ['buf.validate.message', 'buf.validate.field', 'buf.validate.oneof']
    .map((name) => registry.getExtension(name))
    .filter((e): e is DescExtension => e !== undefined);
  const validator = createValidator({ registry });
  return {
    checkFor<T>(type: MessageType<T>): MessageCheck<T> | undefined {
      const schema = registry.getMessage(type.$type);
      if (!schema) throw invalidOption(`${type.$type} is not in the validator's descriptor sets`);
      if (!hasRules(schema, extensions)) return undefined;
      // Plans (and compiles) the rules now, so a rule that does not compile fails at start-up.
      const probe = validator.validate(schema, create(schema));
      if (probe.kind === 'error') {
        throw invalidOption(`the validation rules of ${type.$type} do not compile: ${probe.error.message}`);
      }
      return (message: T): readonly FieldViolation[] => {
        const result = validator.validate(schema, fromBinary(schema, encodeMessage(type, message)));
        if (result.kind === 'valid') return NONE;
        if (result.kind === 'invalid') return result.violations.map(toFieldViolation);
        throw ValidateErrors.RULE_FAILED.with({ cause: result.error }, schema.typeName, result.error);
      };
    },
  };
}

function toFieldViolation(v: Violation): FieldViolation {
  return { field: pathToString(v.field), description: v.message, reason: v.ruleId };
}
