export type { ContractValidatorOptions } from './createContractValidator.js';
export { createContractValidator } from './createContractValidator.js';
export { ValidateReason } from './errors.js';
