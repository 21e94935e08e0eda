import { defineErrors, type FieldViolation } from '@refront/core';

/**
 * The errors of the notes service, each declared once with its status: callers get the status
 * (gRPC code), the reason and, for invalid input, every bad field at once.
 */
export const NotesErrors = defineErrors('NOTES', {
  INVALID_NOTE: {
    status: 'INVALID_ARGUMENT',
    message: (fields: readonly FieldViolation[]) =>
      `the note is invalid: ${fields.map((f) => `${f.field} ${f.description}`).join('; ')}`,
    description: 'A field of the request breaks its rule; details list every one.',
  },
  NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (id: string) => `note ${id} does not exist`,
    description: 'No note has this id.',
  },
});

/** Throws NOTES_INVALID_NOTE with every violation, or returns when there is none. */
export function throwIfInvalid(violations: readonly FieldViolation[]): void {
  if (violations.length === 0) return;
  throw NotesErrors.INVALID_NOTE.with({ details: { fieldViolations: [...violations] } }, violations);
}
