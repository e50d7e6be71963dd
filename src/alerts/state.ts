import { rank, type Assessment, type Level } from './rules.js';

export type AlertState = 'ok' | 'pending' | 'firing';

/**
 * What happened to one alert at one evaluation. Only `firing`, `escalated` and `resolved` are
 * delivered to channels; `pending` and `suppressed` are recorded in the log.
 */
export type Transition = 'pending' | 'firing' | 'escalated' | 'resolved' | 'suppressed' | 'cancelled';

export interface AlertStatus {
  readonly state: AlertState;
  readonly level: Level | null;
  /** When the current breach began (pending or firing). */
  readonly since: number | null;
  /** When the last firing was delivered; the cooldown runs from it. */
  readonly lastFiredAt: number | null;
  /** False when this firing fell inside the cooldown and was not delivered. */
  readonly delivered: boolean;
}

export const INITIAL: AlertStatus = {
  state: 'ok',
  level: null,
  since: null,
  lastFiredAt: null,
  delivered: false,
};

/**
 * ok → pending → firing → resolved → ok, as in Grafana: a breach must last `forMs` before it fires
 * (a breach that ends sooner is cancelled quietly), a firing alert resolves only once the value is
 * clear of the band (hysteresis), and a firing within `cooldownMs` of the last delivered one is
 * recorded as suppressed rather than sent again. Missing data or too little volume changes nothing.
 */
export function step(
  status: AlertStatus,
  assessment: Assessment,
  now: number,
  rule: { readonly forMs: number; readonly cooldownMs: number },
): { status: AlertStatus; transition?: Transition } {
  if (assessment.status === 'no_data' || assessment.status === 'low_volume') {
    return status.state === 'pending'
      ? { status: { ...status, state: 'ok', level: null, since: null } }
      : { status };
  }
  if (assessment.status === 'breach') {
    switch (status.state) {
      case 'ok': {
        const pending: AlertStatus = { ...status, state: 'pending', level: assessment.level, since: now };
        if (rule.forMs > 0) return { status: pending, transition: 'pending' };
        return fire(pending, now, rule.cooldownMs);
      }
      case 'pending': {
        const level = worse(status.level, assessment.level);
        if (now - (status.since ?? now) >= rule.forMs)
          return fire({ ...status, level }, now, rule.cooldownMs);
        return { status: { ...status, level } };
      }
      case 'firing':
        if (rank(assessment.level) > rank(status.level ?? 'warn') && status.delivered)
          return { status: { ...status, level: assessment.level }, transition: 'escalated' };
        return { status };
    }
  }
  if (assessment.status !== 'ok') return { status };
  switch (status.state) {
    case 'pending':
      return { status: { ...status, state: 'ok', level: null, since: null }, transition: 'cancelled' };
    case 'firing':
      if (!assessment.clear) return { status };
      return {
        status: { ...status, state: 'ok', level: null, since: null },
        // A firing that was never delivered resolves as quietly as it fired.
        ...(status.delivered ? { transition: 'resolved' as const } : {}),
      };
    case 'ok':
      return { status };
  }
}

function fire(
  status: AlertStatus,
  now: number,
  cooldownMs: number,
): { status: AlertStatus; transition: Transition } {
  const cooling = status.lastFiredAt !== null && now - status.lastFiredAt < cooldownMs;
  if (cooling) return { status: { ...status, state: 'firing', delivered: false }, transition: 'suppressed' };
  return { status: { ...status, state: 'firing', lastFiredAt: now, delivered: true }, transition: 'firing' };
}

function worse(a: Level | null, b: Level): Level {
  return a !== null && rank(a) >= rank(b) ? a : b;
}
