export type { DevCertificates, DevCertificatesOptions } from './devCertificates.js';
export { createDevCertificates } from './devCertificates.js';
export type { MutualClientTls, MutualServerTls, ServiceTlsFiles } from './serviceTls.js';
export { mutualTls } from './serviceTls.js';
export { DEFAULT_TRUST_DOMAIN, serviceOfSpiffeId, spiffeId } from './spiffe.js';
