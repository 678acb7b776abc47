import { InvalidArgumentError, expectFunction, expectNumber } from '@aiomisc/core';

/** How a robust client waits between connection attempts. Durations are milliseconds. */
export interface ReconnectOptions {
  /** The first pause (after a connection ends or an attempt fails). @default 100 */
  pause?: number;
  /** Each failed attempt in a row multiplies the pause by this. @default 2 */
  factor?: number;
  /** The upper bound of a grown pause. @default 5000 */
  maxPause?: number;
  /** Share of each pause taken off at random (0 none, 1 full jitter). @default 0.5 */
  jitter?: number;
  /** Failed attempts in a row after which the client gives up. @default Infinity */
  maxTries?: number;
  /** Called with each connection error; returning true gives up at once. @default undefined */
  giveup?: (error: unknown) => boolean;
}

/** @internal validated {@link ReconnectOptions}. */
export interface ReconnectPolicy {
  pause: number;
  factor: number;
  maxPause: number;
  jitter: number;
  maxTries: number;
  giveup: ((error: unknown) => boolean) | undefined;
}

/** @internal */
export function reconnectPolicy(options: ReconnectOptions | undefined): ReconnectPolicy {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgumentError('reconnect', options, 'an options object');
  }
  const value = options ?? {};
  return {
    pause: expectNumber('reconnect.pause', value.pause ?? 100, { min: 0 }),
    factor: expectNumber('reconnect.factor', value.factor ?? 2, { min: 1 }),
    maxPause: expectNumber('reconnect.maxPause', value.maxPause ?? 5000, {
      min: 0,
      allowInfinity: true,
    }),
    jitter: expectNumber('reconnect.jitter', value.jitter ?? 0.5, { min: 0, max: 1 }),
    maxTries: expectNumber('reconnect.maxTries', value.maxTries ?? Infinity, {
      min: 1,
      integer: true,
      allowInfinity: true,
    }),
    giveup:
      value.giveup === undefined ? undefined : expectFunction('reconnect.giveup', value.giveup),
  };
}

/**
 * The pause before the next attempt after `failures` failed attempts in a row (0: a connection
 * just ended): `pause * factor^failures`, at most `maxPause`, minus up to `jitter` of it at random.
 * @internal
 */
export function reconnectPause(policy: ReconnectPolicy, failures: number): number {
  let delay = policy.pause * policy.factor ** failures;
  if (delay > policy.maxPause) delay = policy.maxPause;
  if (policy.jitter > 0) delay *= 1 - policy.jitter * Math.random();
  return delay;
}
