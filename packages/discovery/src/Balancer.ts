import type { ServiceInstance } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { DiscoveryErrors } from './errors.js';

/** How a {@link Balancer} spreads calls over instances. */
export type BalancerStrategy = 'round-robin' | 'random' | 'least-outstanding';

/** Outlier detection: an instance that fails repeatedly is ejected for a while, then returns on its own. */
export interface OutlierOptions {
  /** Failures in a row (`done(false)`) that eject an instance. @default 5 */
  readonly consecutiveFailures?: number;
  /** Base ejection time in ms; the n-th ejection in a row lasts n × this (as Envoy does). @default 30000 */
  readonly ejectionMs?: number;
  /** Longest ejection, in ms. @default 300000 */
  readonly maxEjectionMs?: number;
  /** Most instances ejected at once, in percent; one always stays, and above 0 one may always go. @default 50 */
  readonly maxEjectedPercent?: number;
}

/** Options of {@link createBalancer}. */
export interface BalancerOptions {
  /** The strategy. `least-outstanding` is power of two choices on in-flight calls. @default 'least-outstanding' */
  readonly strategy?: BalancerStrategy;
  /** Outlier detection settings, or `false` to turn it off. @default {} (on, with the defaults) */
  readonly outlier?: OutlierOptions | false;
  /** Service name, for error messages. */
  readonly service?: string;
  /** Source of randomness in [0, 1), for `random` and `least-outstanding`. @default Math.random */
  readonly random?: () => number;
  /** Clock in ms, for ejections. @default Date.now */
  readonly now?: () => number;
}

/** One picked instance; call `done` once when the call ends (a second call is ignored). */
export interface Pick {
  readonly instance: ServiceInstance;
  /** Ends the call: releases its in-flight count and feeds outlier detection with its outcome. */
  done(ok: boolean): void;
}

/** Picks an instance per call from the current set. */
export interface Balancer {
  /** Replaces the set; instances that stay keep their in-flight counts and ejections. */
  update(instances: readonly ServiceInstance[]): void;
  /**
   * Picks an instance that is not ejected. With `avoid`, an instance it returns true for is
   * passed over while another one is available (the instance a retry just failed on, one whose
   * connection is down); when every instance is to be avoided, one of them is picked anyway.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES` when the set is empty.
   */
  pick(avoid?: (instance: ServiceInstance) => boolean): Pick;
  /** The ids of the instances ejected now. */
  ejected(): readonly string[];
}

/** Default strategy of {@link createBalancer}. */
export const DEFAULT_BALANCER_STRATEGY: BalancerStrategy = 'least-outstanding';
/** Default of {@link OutlierOptions.consecutiveFailures}. */
export const DEFAULT_CONSECUTIVE_FAILURES = 5;
/** Default of {@link OutlierOptions.ejectionMs}. */
export const DEFAULT_EJECTION_MS = 30_000;
/** Default of {@link OutlierOptions.maxEjectionMs}. */
export const DEFAULT_MAX_EJECTION_MS = 300_000;
/** Default of {@link OutlierOptions.maxEjectedPercent}. */
export const DEFAULT_MAX_EJECTED_PERCENT = 50;

interface Entry {
  instance: ServiceInstance;
  outstanding: number;
  failures: number;
  ejectedUntil: number;
  /** How many ejections in a row; decays by one per `ejectionMs` spent healthy. */
  multiplier: number;
}

interface Outlier {
  readonly consecutiveFailures: number;
  readonly ejectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectedPercent: number;
}

function resolveOutlier(o: OutlierOptions | false | undefined): Outlier | undefined {
  if (o === false) return undefined;
  const r = {
    consecutiveFailures: o?.consecutiveFailures ?? DEFAULT_CONSECUTIVE_FAILURES,
    ejectionMs: o?.ejectionMs ?? DEFAULT_EJECTION_MS,
    maxEjectionMs: o?.maxEjectionMs ?? DEFAULT_MAX_EJECTION_MS,
    maxEjectedPercent: o?.maxEjectedPercent ?? DEFAULT_MAX_EJECTED_PERCENT,
  };
  if (!Number.isInteger(r.consecutiveFailures) || r.consecutiveFailures < 1) {
    throw invalidOption('outlier.consecutiveFailures must be an integer >= 1');
  }
  if (!(r.ejectionMs > 0 && Number.isFinite(r.ejectionMs)))
    throw invalidOption('outlier.ejectionMs must be > 0');
  if (!(r.maxEjectionMs >= r.ejectionMs)) throw invalidOption('outlier.maxEjectionMs must be >= ejectionMs');
  if (!(r.maxEjectedPercent >= 0 && r.maxEjectedPercent <= 100)) {
    throw invalidOption('outlier.maxEjectedPercent must be in 0..100');
  }
  return r;
}

/**
 * Creates a load balancer. `round-robin` takes turns; `random` picks uniformly;
 * `least-outstanding` draws two instances at random and takes the one with fewer calls in flight
 * (power of two choices: nearly as good as the global least, at O(1) and with no herding).
 * Ejected instances are skipped and come back when their ejection ends, with no timer.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for an unknown strategy or bad outlier settings.
 * @example
 * const balancer = createBalancer({ strategy: 'least-outstanding', outlier: { consecutiveFailures: 5 } });
 * balancer.update(await registry.resolve('tickets'));
 * const pick = balancer.pick();
 * try { await call(pick.instance); pick.done(true); } catch (e: unknown) { pick.done(false); throw e; }
 */
export function createBalancer(options: BalancerOptions = {}): Balancer {
  const strategy = options.strategy ?? DEFAULT_BALANCER_STRATEGY;
  if (!['round-robin', 'random', 'least-outstanding'].includes(strategy)) {
    throw invalidOption(`strategy must be round-robin, random or least-outstanding, not ${String(strategy)}`);
  }
  const outlier = resolveOutlier(options.outlier);
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  let entries = new Map<string, Entry>();
  let available: Entry[] = [];
  let ejectedCount = 0;
  let nextReturnAt = Number.POSITIVE_INFINITY;
  let cursor = 0;

  const rebuild = (t: number): void => {
    available = [];
    ejectedCount = 0;
    nextReturnAt = Number.POSITIVE_INFINITY;
    for (const e of entries.values()) {
      if (e.ejectedUntil > t) {
        ejectedCount += 1;
        nextReturnAt = Math.min(nextReturnAt, e.ejectedUntil);
      } else {
        available.push(e);
      }
    }
    // Panic routing (Envoy's term): if a shrunk set left only ejected instances, use them all.
    if (available.length === 0) available = [...entries.values()];
  };

  const eject = (e: Entry, t: number): void => {
    if (!outlier || e.ejectedUntil > t || entries.get(e.instance.id) !== e) return;
    const pct = outlier.maxEjectedPercent;
    const allowed =
      pct === 0 ? 0 : Math.min(entries.size - 1, Math.max(1, Math.floor((entries.size * pct) / 100)));
    if (ejectedCount >= allowed) return;
    const healthyFor = e.ejectedUntil === 0 ? Number.POSITIVE_INFINITY : t - e.ejectedUntil;
    e.multiplier = Math.max(0, e.multiplier - Math.floor(healthyFor / outlier.ejectionMs)) + 1;
    e.ejectedUntil = t + Math.min(outlier.maxEjectionMs, outlier.ejectionMs * e.multiplier);
    e.failures = 0;
    rebuild(t);
  };

  const choose = (from: readonly Entry[]): Entry | undefined => {
    const n = from.length;
    if (n <= 1) return from[0];
    if (strategy === 'round-robin') {
      cursor = (cursor + 1) % n;
      return from[cursor];
    }
    const i = Math.floor(random() * n) % n;
    if (strategy === 'random') return from[i];
    let j = Math.floor(random() * (n - 1)) % (n - 1);
    if (j >= i) j += 1;
    const a = from[i] as Entry;
    const b = from[j] as Entry;
    return b.outstanding < a.outstanding ? b : a;
  };

  return {
    update(instances) {
      const next = new Map<string, Entry>();
      for (const instance of instances) {
        const kept = entries.get(instance.id);
        if (kept) kept.instance = instance;
        next.set(
          instance.id,
          kept ?? { instance, outstanding: 0, failures: 0, ejectedUntil: 0, multiplier: 0 },
        );
      }
      entries = next;
      rebuild(now());
    },
    pick(avoid) {
      if (ejectedCount > 0 && now() >= nextReturnAt) rebuild(now());
      let entry = choose(available);
      if (entry && avoid && available.length > 1 && avoid(entry.instance)) {
        const rest = available.filter((e) => !avoid(e.instance));
        if (rest.length > 0) entry = choose(rest);
      }
      if (!entry) throw DiscoveryErrors.NO_INSTANCES.with({ unprocessed: true }, options.service);
      entry.outstanding += 1;
      let finished = false;
      return {
        instance: entry.instance,
        done(ok: boolean) {
          if (finished) return;
          finished = true;
          entry.outstanding = Math.max(0, entry.outstanding - 1);
          if (!outlier) return;
          if (ok) {
            entry.failures = 0;
          } else if (++entry.failures >= outlier.consecutiveFailures) {
            eject(entry, now());
          }
        },
      };
    },
    ejected() {
      const t = now();
      return [...entries.values()].filter((e) => e.ejectedUntil > t).map((e) => e.instance.id);
    },
  };
}
