/** Reason codes of the reporting service. */
export const ReportingReason = {
  /** A consumed event is invalid (dead-lettered at once, never logged). */
  BAD_EVENT: 'REPORTING_BAD_EVENT',
  /** A report request's page token is not one this report returned (the rest is the contract's). */
  INVALID_REQUEST: 'REPORTING_INVALID_REQUEST',
} as const;
