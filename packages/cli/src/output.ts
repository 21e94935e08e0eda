/** Where a command writes: `console` in the `refront` executable, a collector in tests. */
export interface CliOutput {
  /** A line of the command's result (stdout). */
  log(line: string): void;
  /** A line of a failure or a warning (stderr). */
  error(line: string): void;
}
