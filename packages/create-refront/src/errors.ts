/** Why {@link CreateRefrontError} was thrown. */
export type CreateRefrontReason =
  /** The app name is not a valid npm package name. */
  | 'INVALID_NAME'
  /** The target folder exists and is not empty. */
  | 'DIRECTORY_NOT_EMPTY'
  /** `--refront-from` names no folder, or one without `@refront/*` tarballs the app needs. */
  | 'BAD_REFRONT_FROM'
  /** `npm install` or `npm run generate` failed in the new app. */
  | 'COMMAND_FAILED'
  /** The command line is not understood. */
  | 'USAGE';

/**
 * What create-refront throws: `reason` says which problem, the message says what to do. The
 * command prints the message and exits 1.
 */
export class CreateRefrontError extends Error {
  /** Which problem it is. */
  readonly reason: CreateRefrontReason;

  constructor(reason: CreateRefrontReason, message: string) {
    super(message);
    this.name = 'CreateRefrontError';
    this.reason = reason;
  }
}
