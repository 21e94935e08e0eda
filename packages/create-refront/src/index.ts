/**
 * `npm create refront@latest my-app`: a new Refront app, ready to run and test. The command is
 * `create-refront`; what it does is also a function, {@link createApp}.
 * @packageDocumentation
 */
export { checkAppName } from './appName.js';
export type { CreateAppOptions, CreatedApp } from './createApp.js';
export { createApp } from './createApp.js';
export type { CreateRefrontReason } from './errors.js';
export { CreateRefrontError } from './errors.js';
export { main, USAGE } from './main.js';
