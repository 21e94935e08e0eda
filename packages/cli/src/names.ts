/** A service name's spellings in each place `refront new service` writes it. */
export interface ServiceNames {
  /** The service name (`billing-alerts`): discovery, consumer group, broker user, `SERVICE`. */
  readonly name: string;
  /** Its source folder under `src/` (`billingalerts`). */
  readonly folder: string;
  /** The protobuf package segment (`billing_alerts`, in `refront.billing_alerts.v1`). */
  readonly protoPackage: string;
  /** PascalCase (`BillingAlerts`): the gRPC service `BillingAlertsService`. */
  readonly pascal: string;
  /** camelCase (`billingAlerts`): the module `billingAlertsModule`. */
  readonly camel: string;
  /** SCREAMING_SNAKE (`BILLING_ALERTS`): the prefix of its error reasons. */
  readonly upper: string;
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Names a service cannot take in the demo's layout: the gateway process and the hosts' folders. */
const RESERVED = new Set(['gateway', 'platform', 'gen', 'types', 'test', 'unrouted']);

/**
 * The spellings of a service name, or why it is not one: lower-case words of letters and digits
 * joined by single hyphens, starting with a letter, at most 40 characters, not a reserved name.
 *
 * @example
 * serviceNames('billing-alerts').pascal; // 'BillingAlerts'
 */
export function serviceNames(name: string): ServiceNames | string {
  if (!NAME.test(name))
    return `"${name}" is not a service name: lower-case letters and digits in words joined by "-", starting with a letter (e.g. billing-alerts)`;
  if (name.length > 40) return `"${name}" is longer than 40 characters`;
  if (RESERVED.has(name) || RESERVED.has(name.replaceAll('-', '')))
    return `"${name}" is reserved (${[...RESERVED].join(', ')})`;
  const words = name.split('-');
  const pascal = words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
  return {
    name,
    folder: words.join(''),
    protoPackage: words.join('_'),
    pascal,
    camel: pascal[0]?.toLowerCase() + pascal.slice(1),
    upper: words.join('_').toUpperCase(),
  };
}
