import type { Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { GrpcErrors } from './errors.js';

/**
 * Server reflection (`grpc.reflection.v1` and `v1alpha`, as grpcurl and Postman use it). ts-proto
 * definitions carry no descriptors, so reflection reads the contract's `.proto` files.
 */
export interface ReflectionOptions {
  /** The `.proto` files to describe (imports are followed). */
  readonly protoFiles: readonly string[];
  /** Folders imports are resolved against. @default [] */
  readonly includeDirs?: readonly string[];
  /** Fully-qualified services to list. @default every service in the files */
  readonly services?: readonly string[];
}

/**
 * Adds the reflection service to `server`.
 * @throws RefrontError INVALID_ARGUMENT `GRPC_REFLECTION_FAILED` when a file does not load.
 */
export function addReflection(server: Pick<Server, 'addService'>, options: ReflectionOptions): void {
  let definition: ReturnType<typeof loadSync>;
  try {
    definition = loadSync([...options.protoFiles], { includeDirs: [...(options.includeDirs ?? [])] });
  } catch (e: unknown) {
    throw GrpcErrors.REFLECTION_FAILED.with({ cause: e }, options.protoFiles);
  }
  const services = options.services ? { services: [...options.services] } : {};
  new ReflectionService(definition, services).addToServer(server);
}
