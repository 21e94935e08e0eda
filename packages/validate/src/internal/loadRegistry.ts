import { create, createFileRegistry, type DescFile, type FileRegistry, fromBinary } from '@bufbuild/protobuf';
import { base64Decode } from '@bufbuild/protobuf/wire';
import {
  type FileDescriptorProto,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import { invalidOption } from '@refront/core/transport';
import { FILE_DESCRIPTOR_SET as BUF_VALIDATE } from '../gen/descriptors.js';

/** Files every contract may import without carrying them. */
const BUILT_IN: readonly DescFile[] = [
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
];

/**
 * One registry of the well-known types the contracts may import, buf.validate, and every file of
 * the sets, in that order (each file after its imports, as `buf build` writes a set); a file
 * already added (a set built with its imports) is skipped. A set is base64 (what `proto:gen`
 * writes to `gen/descriptors.ts`) or bytes (`buf build -o set.binpb`).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when a set does not decode or an
 *   import cannot be resolved.
 */
export function loadRegistry(sets: readonly (string | Uint8Array)[]): FileRegistry {
  const files = new Map<string, FileDescriptorProto>(BUILT_IN.map((f) => [f.proto.name, f.proto]));
  for (const [i, input] of [BUF_VALIDATE, ...sets].entries()) {
    let set: FileDescriptorSet;
    try {
      set = fromBinary(FileDescriptorSetSchema, typeof input === 'string' ? base64Decode(input) : input);
    } catch (e: unknown) {
      throw invalidOption(`descriptors[${i - 1}] is not a FileDescriptorSet: ${String(e)}`);
    }
    for (const f of set.file) if (!files.has(f.name)) files.set(f.name, f);
  }
  try {
    return createFileRegistry(create(FileDescriptorSetSchema, { file: [...files.values()] }));
  } catch (e: unknown) {
    throw invalidOption(`the descriptor sets do not load: ${e instanceof Error ? e.message : String(e)}`);
  }
}
