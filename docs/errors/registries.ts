import { CliErrors } from '@refront/cli';
import { ConsoleErrors } from '@refront/console';
import { CoreErrors } from '@refront/core';
import type { ErrorFactory } from '@refront/core/transport';
import { DataErrors } from '@refront/data';
import { DiscoveryErrors } from '@refront/discovery';
import { ResilienceErrors } from '@refront/resilience';
import { RpcErrors } from '@refront/rpc';
import { TestingErrors } from '@refront/testing';
import { AmqpErrors } from '@refront/transport-amqp';
import { GrpcErrors } from '@refront/transport-grpc';
import { MuxErrors } from '@refront/transport-mux';
import { ValidateErrors } from '@refront/validate';
import { WorkflowErrors } from '@refront/workflow';

/** One package's error registry, as `docs/errors.md` lists it. */
export interface PackageErrors {
  /** The npm package that raises them. */
  readonly name: string;
  /** Its registry (`defineErrors`). */
  readonly errors: Readonly<Record<string, ErrorFactory<string, never>>>;
}

/**
 * Every package's error registry, in the order of docs/errors.md. A package that declares its
 * errors with `defineErrors` is listed here, and its README links to its section.
 */
export const REGISTRIES: readonly PackageErrors[] = [
  { name: '@refront/core', errors: CoreErrors },
  { name: '@refront/data', errors: DataErrors },
  { name: '@refront/workflow', errors: WorkflowErrors },
  { name: '@refront/discovery', errors: DiscoveryErrors },
  { name: '@refront/validate', errors: ValidateErrors },
  { name: '@refront/resilience', errors: ResilienceErrors },
  { name: '@refront/rpc', errors: RpcErrors },
  { name: '@refront/transport-grpc', errors: GrpcErrors },
  { name: '@refront/transport-mux', errors: MuxErrors },
  { name: '@refront/transport-amqp', errors: AmqpErrors },
  { name: '@refront/testing', errors: TestingErrors },
  { name: '@refront/console', errors: ConsoleErrors },
  { name: '@refront/cli', errors: CliErrors },
];
