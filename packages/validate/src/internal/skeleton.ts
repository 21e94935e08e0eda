import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';

/** Nesting past which a message field's skeleton is left `{}` (recursive messages). */
const MAX_DEPTH = 6;

/**
 * A JSON skeleton of a message in protobuf's JSON mapping: every field under its JSON name with
 * a typed placeholder (`""`, `0`, `"0"` for 64-bit integers, `false`, the first enum value that is
 * not `…_UNSPECIFIED`, a timestamp, nested messages, one element in a list, `{}` for a map). Of a
 * oneof, only its first member is given (two members at once do not parse).
 */
export function skeletonOf(schema: DescMessage, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (depth > MAX_DEPTH) return out;
  for (const member of schema.members) {
    const field = member.kind === 'oneof' ? member.fields[0] : member;
    if (field === undefined) continue;
    out[field.jsonName] = fieldSkeleton(field, depth);
  }
  return out;
}

function fieldSkeleton(field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case 'list':
      return [
        field.listKind === 'scalar'
          ? scalar(field.scalar)
          : field.listKind === 'enum'
            ? enumValue(field.enum.values)
            : messageValue(field.message, depth),
      ];
    case 'map':
      return {};
    case 'scalar':
      return scalar(field.scalar);
    case 'enum':
      return enumValue(field.enum.values);
    case 'message':
      return messageValue(field.message, depth);
  }
}

function messageValue(message: DescMessage, depth: number): unknown {
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return new Date(0).toISOString();
    case 'google.protobuf.Duration':
      return '0s';
    case 'google.protobuf.FieldMask':
      return '';
    case 'google.protobuf.Struct':
      return {};
    case 'google.protobuf.Value':
      return null;
    default:
      if (message.typeName.startsWith('google.protobuf.') && message.typeName.endsWith('Value')) {
        const value = message.fields.find((f) => f.name === 'value');
        return value?.fieldKind === 'scalar' ? scalar(value.scalar) : null;
      }
      return skeletonOf(message, depth + 1);
  }
}

function enumValue(values: readonly { readonly name: string; readonly number: number }[]): string {
  return (values.find((v) => v.number !== 0) ?? values[0])?.name ?? '';
}

function scalar(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return '';
    case ScalarType.BOOL:
      return false;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return '0';
    default:
      return 0;
  }
}
