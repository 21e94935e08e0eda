/**
 * The demo's configuration schemas, for docs/config.md (`npm run config -w docs`), which is
 * generated from them: `docs` imports them as `@refront/demo/config`, never by path.
 * @packageDocumentation
 */
export { gatewayEnvShape } from './gateway/config.js';
export { notificationsEnvShape } from './notifications/config.js';
export { identityEnvShape } from './platform/serviceIdentity.js';
export { serveConfig } from './serveConfig.js';
