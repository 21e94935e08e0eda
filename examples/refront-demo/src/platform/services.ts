/**
 * The service registry: every service module of the platform, in start order. It is the one list
 * the hosts read: the monolith (`startPlatform`), one service per process (`serve.ts`, its
 * `SERVICE` choices), the local distributed topology (`LocalTopology`: ports, broker users,
 * endpoints) and the deployment facts (`deployFacts.ts`). A service is added here and nowhere
 * else: `refront new service <name>` (`@refront/cli`) writes its import and its entry, keeping the
 * imports sorted and the entry above the marker comment at the end of the list.
 */
import { aiModule } from '../ai/module.js';
import { invoicingModule } from '../invoicing/module.js';
import { notificationsModule } from '../notifications/module.js';
import { reportingModule } from '../reporting/module.js';
import { ticketsModule } from '../tickets/module.js';
import { timeTrackingModule } from '../timetracking/module.js';
import type { ServiceModule } from './module.js';

/** Every service module of the platform, in start order. */
export const PLATFORM_MODULES: readonly ServiceModule[] = [
  ticketsModule,
  timeTrackingModule,
  invoicingModule,
  aiModule,
  notificationsModule,
  reportingModule,
  // refront:services (`refront new service` adds a module above this line)
];
