#!/usr/bin/env node
/** The `refront` executable: see runCli in cli.ts and the package README. */
import { runCli } from './cli.js';

void runCli(process.argv.slice(2), console).then((code) => {
  process.exitCode = code;
});
