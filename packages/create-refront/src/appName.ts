import validate from 'validate-npm-package-name';
import { CreateRefrontError } from './errors.js';

/**
 * Checks that `name` can name the new app's package: npm's rules for new packages (lower case, no
 * spaces, at most 214 characters, not a core module name…).
 *
 * @throws CreateRefrontError `INVALID_NAME` listing every rule the name breaks.
 * @example
 * checkAppName('my-app'); // fine
 * checkAppName('My App'); // throws: name can no longer contain capital letters; …
 */
export function checkAppName(name: string): void {
  const result = validate(name);
  if (result.validForNewPackages) return;
  const problems = [...(result.errors ?? []), ...(result.warnings ?? [])];
  throw new CreateRefrontError(
    'INVALID_NAME',
    `"${name}" cannot name the app (it becomes its npm package name): ${problems.join('; ')}. ` +
      'Use lower case letters, digits and dashes, for example "my-app".',
  );
}
