/**
 * A failure the command explains to its user: the message says what is wrong and what to do,
 * and `refront` prints it without a stack and exits with `exitCode`.
 *
 * @example
 * throw new CliFailure('no buf.yaml in /app or above: run refront generate inside a workspace');
 */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';

  /**
   * @param message what is wrong and how to fix it
   * @param exitCode the process exit code (1 a failure, 2 a usage error)
   */
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}
