/**
 * The hosts' side of a service module. What a module declares and what a host gives it
 * (`ServiceModule`, `ModuleRuntime`) are `@refront/data`'s; they are re-exported here for the
 * host code that names them through this file.
 */
export type { ModuleEvents, ModuleRuntime, ServiceModule } from '@refront/data';

/** The database schema a host gives a service: `time-tracking` → `time_tracking`. */
export function schemaOf(service: string): string {
  return service.replaceAll('-', '_');
}
