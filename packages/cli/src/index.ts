/**
 * `@refront/cli`: the `refront` command and the functions behind it, for scripts and tests.
 * @packageDocumentation
 */

export type { CallOptions, CallResult } from './call.js';
export { call } from './call.js';
export type { CliContext } from './cli.js';
export { runCli } from './cli.js';
export type { DeadLetterRow, DlqTarget, ReplayResult } from './dlq.js';
export { discardDeadLetters, listDeadLetters, replayDeadLetters } from './dlq.js';
export type { DoctorCheck, DoctorOptions } from './doctor.js';
export { checkCertificates, doctor } from './doctor.js';
export { CliErrors } from './errors.js';
export type { GenerateOptions, GenerateResult } from './generate.js';
export { generate, TS_PROTO_OPTIONS } from './generate.js';
export type { ServiceNames } from './names.js';
export { serviceNames } from './names.js';
export type { NewServiceOptions, NewServiceResult } from './newService.js';
export { newService, REGISTRY_FILE, REGISTRY_MARKER, SERVICES_HOOK } from './newService.js';
export type { CliOutput } from './output.js';
