import { invalidOption } from '@refront/core/transport';

/** Throws INVALID_OPTION unless `value` is an integer of at least `min`. */
export function requireInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw invalidOption(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Throws INVALID_OPTION unless `value` is a finite number of at least `min` (Infinity allowed when `allowInfinity`). */
export function requireNumber(name: string, value: number, min: number, allowInfinity = false): number {
  const ok =
    typeof value === 'number' && value >= min && (Number.isFinite(value) || (allowInfinity && value > 0));
  if (!ok) throw invalidOption(`${name} must be a number >= ${min}, got ${String(value)}`);
  return value;
}

/** Throws INVALID_OPTION unless `value` lies in `[min, max]`. */
export function requireRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw invalidOption(`${name} must be between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}
