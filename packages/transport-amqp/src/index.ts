/** Placeholder while the package is being built. */
export const PACKAGE = '@refront/transport-amqp';
