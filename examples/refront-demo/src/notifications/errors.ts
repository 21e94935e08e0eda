/** Reason codes of the notifications service (status and retryability in README.md). */
export const NotificationsReason = {
  /** An event names no tenant or no invoice/ticket (dead-lettered at once). */
  BAD_EVENT: 'NOTIFICATIONS_BAD_EVENT',
  /** The SMTP server could not be reached, or did not accept the mail. */
  SMTP_FAILED: 'NOTIFICATIONS_SMTP_FAILED',
  /** Mail goes to an outside SMTP server: there is no receiver here to list. */
  NO_RECEIVER: 'NOTIFICATIONS_NO_RECEIVER',
} as const;

/** One of {@link NotificationsReason}. */
export type NotificationsReasonCode = (typeof NotificationsReason)[keyof typeof NotificationsReason];
