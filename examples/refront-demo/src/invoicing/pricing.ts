/** One entry to price. */
export interface PricedEntry {
  readonly minutes: number;
  readonly rateMinor: number;
  readonly amountMinor: number;
}

/**
 * The price of `minutes` at an hourly rate, in minor units, rounded half up to a whole minor
 * unit: integer arithmetic only, so totals are exact to the cent.
 */
export function priceMinutes(minutes: number, hourlyRateMinor: number): number {
  const product = minutes * hourlyRateMinor;
  if (!Number.isSafeInteger(product))
    throw new RangeError(`price of ${minutes} min at ${hourlyRateMinor} overflows`);
  return Math.floor((product + 30) / 60);
}

/** The first and the day after the last day of a `YYYY-MM` period, or undefined when invalid. */
export function periodBounds(period: string): { from: string; until: string } | undefined {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const next = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
  return { from: `${period}-01`, until: `${next}-01` };
}
