import { type DescExtension, type DescMessage, hasOption } from '@bufbuild/protobuf';

/**
 * Whether `schema`, or a message it holds at any depth, carries a buf.validate option (message,
 * field or oneof rules). A message without any needs no check per call.
 * @internal
 */
export function hasRules(
  schema: DescMessage,
  extensions: readonly DescExtension[],
  seen: Set<string> = new Set(),
): boolean {
  if (seen.has(schema.typeName)) return false;
  seen.add(schema.typeName);
  const has = (desc: Parameters<typeof hasOption>[0]): boolean =>
    extensions.some((ext) => ext.extendee.typeName === desc.proto.options?.$typeName && hasOption(desc, ext));
  if (has(schema) || schema.oneofs.some(has)) return true;
  for (const field of schema.fields) {
    if (has(field)) return true;
    const nested = 'message' in field ? field.message : undefined;
    if (nested && hasRules(nested, extensions, seen)) return true;
  }
  return false;
}
