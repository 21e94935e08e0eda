export type {
  ContractCatalog,
  ContractCatalogOptions,
  ContractMethod,
  ContractService,
} from './createContractCatalog.js';
export { createContractCatalog } from './createContractCatalog.js';
export type { ContractValidatorOptions } from './createContractValidator.js';
export { createContractValidator } from './createContractValidator.js';
export { ValidateErrors, ValidateReason } from './errors.js';
export { requireRole, requireTenant } from './tenantAndRoles.js';
export { Violations } from './Violations.js';
