import { opsPerSecond, report } from '@aiomisc/bench';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  handleAll,
  retry,
  SamplingBreaker,
  timeout as cockatielTimeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import CircuitBreakerOpossum from 'opossum';
import pRetry from 'p-retry';

import { asyncbackoff, asyncretry, CircuitBreaker, cutout, timeout } from '../src/index';

type Mode = 'ok' | 'fail10pct';
type Group = 'bare' | 'breaker' | 'retry' | 'retry_signal' | 'retry_timed' | 'timeout';

interface Case {
  name: string;
  group: Group;
  peer: boolean;
  /** Milliseconds to wait after the case: its `AbortSignal.timeout` timers outlive the calls. */
  settleMs?: number;
  make(target: () => Promise<number>): () => Promise<unknown>;
}

const noop = () => undefined;
const swallow =
  (call: () => Promise<unknown>): (() => Promise<unknown>) =>
  () =>
    call().catch(noop);

const cases: Case[] = [
  { name: 'bare', group: 'bare', peer: false, make: (target) => swallow(target) },
  {
    name: 'aiomisc_circuit_breaker',
    group: 'breaker',
    peer: false,
    make(target) {
      const breaker = new CircuitBreaker({ errorRatio: 0.5, responseTime: 10_000 });
      return swallow(() => breaker.call(target));
    },
  },
  {
    name: 'aiomisc_cutout',
    group: 'breaker',
    peer: false,
    make: (target) => swallow(cutout(0.5, 10_000)(target)),
  },
  {
    name: 'aiomisc_circuit_breaker_slow_call_tripping',
    group: 'breaker',
    peer: false,
    make(target) {
      const breaker = new CircuitBreaker({
        errorRatio: 0.5,
        responseTime: 10_000,
        slowCallTime: 1000,
      });
      return swallow(() => breaker.call(target));
    },
  },
  {
    name: 'cockatiel_consecutive_breaker',
    group: 'breaker',
    peer: true,
    make(target) {
      const policy = circuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new ConsecutiveBreaker(5),
      });
      return swallow(() => policy.execute(target));
    },
  },
  {
    name: 'cockatiel_sampling_breaker',
    group: 'breaker',
    peer: true,
    make(target) {
      const policy = circuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 5 }),
      });
      return swallow(() => policy.execute(target));
    },
  },
  {
    name: 'opossum_timeout_false',
    group: 'breaker',
    peer: true,
    make(target) {
      const breaker = new CircuitBreakerOpossum(target, { timeout: false });
      return swallow(() => breaker.fire());
    },
  },
  {
    name: 'opossum_no_timeout_no_percentiles',
    group: 'breaker',
    peer: true,
    make(target) {
      const breaker = new CircuitBreakerOpossum(target, {
        timeout: false,
        rollingPercentilesEnabled: false,
      });
      return swallow(() => breaker.fire());
    },
  },
  {
    name: 'aiomisc_asyncretry',
    group: 'retry',
    peer: false,
    make: (target) => swallow(asyncretry(3)(target)),
  },
  {
    name: 'aiomisc_asyncbackoff_no_limits',
    group: 'retry',
    peer: false,
    make: (target) => swallow(asyncbackoff({ maxTries: 3, exceptions: [Error] })(target)),
  },
  {
    name: 'cockatiel_retry',
    group: 'retry',
    peer: true,
    make(target) {
      const policy = retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) });
      return swallow(() => policy.execute(target));
    },
  },
  {
    name: 'p_retry',
    group: 'retry',
    peer: true,
    make: (target) => swallow(() => pRetry(target, { retries: 2, minTimeout: 0, factor: 1 })),
  },
  // Retries whose target takes the signal and leaves a listener (a new closure each call) on it, own
  // group: ours replaces its shared never-aborted signal every 256 calls, so listeners go with it;
  // a signal shared for good collects one listener per call and slows every later call down.
  {
    name: 'aiomisc_asyncretry_listener_on_signal',
    group: 'retry_signal',
    peer: false,
    make: (target) =>
      swallow(
        asyncretry(3)((signal) => {
          signal.addEventListener('abort', () => {});
          return target();
        }),
      ),
  },
  {
    name: 'cockatiel_retry_listener_on_signal',
    group: 'retry_signal',
    peer: true,
    make(target) {
      const policy = retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) });
      return swallow(() =>
        policy.execute(({ signal }) => {
          signal.addEventListener('abort', () => {});
          return target();
        }),
      );
    },
  },
  // Retries with a per-attempt timeout (1 s) and, where the row says so, a deadline (2 s) over all
  // attempts; each attempt gets its own AbortSignal. The target ignores the signal.
  {
    name: 'aiomisc_asyncbackoff_attempt_timeout_and_deadline',
    group: 'retry_timed',
    peer: false,
    make: (target) =>
      swallow(
        asyncbackoff({ attemptTimeout: 1000, deadline: 2000, maxTries: 3, exceptions: [Error] })(
          target,
        ),
      ),
  },
  {
    name: 'aiomisc_asyncbackoff_attempt_timeout',
    group: 'retry_timed',
    peer: false,
    make: (target) =>
      swallow(asyncbackoff({ attemptTimeout: 1000, maxTries: 3, exceptions: [Error] })(target)),
  },
  {
    name: 'cockatiel_retry_timeout_and_deadline',
    group: 'retry_timed',
    peer: true,
    make(target) {
      const policy = wrap(
        cockatielTimeout(2000, TimeoutStrategy.Cooperative),
        retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) }),
        cockatielTimeout(1000, TimeoutStrategy.Cooperative),
      );
      return swallow(() => policy.execute(() => target()));
    },
  },
  {
    name: 'cockatiel_retry_timeout',
    group: 'retry_timed',
    peer: true,
    make(target) {
      const policy = wrap(
        retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) }),
        cockatielTimeout(1000, TimeoutStrategy.Cooperative),
      );
      return swallow(() => policy.execute(() => target()));
    },
  },
  {
    name: 'p_retry_abort_signal_timeout_and_deadline',
    group: 'retry_timed',
    peer: true,
    settleMs: 2100,
    make(target) {
      const attempt = (signal: AbortSignal) =>
        signal.aborted ? Promise.reject(signal.reason as Error) : target();
      return swallow(() => {
        const deadline = AbortSignal.timeout(2000);
        return pRetry(() => attempt(AbortSignal.any([AbortSignal.timeout(1000), deadline])), {
          retries: 2,
          minTimeout: 0,
          factor: 1,
          signal: deadline,
        });
      });
    },
  },
  {
    name: 'p_retry_abort_signal_timeout',
    group: 'retry_timed',
    peer: true,
    settleMs: 2100,
    make(target) {
      const attempt = (signal: AbortSignal) =>
        signal.aborted ? Promise.reject(signal.reason as Error) : target();
      return swallow(() =>
        pRetry(() => attempt(AbortSignal.timeout(1000)), { retries: 2, minTimeout: 0, factor: 1 }),
      );
    },
  },
  // A 1 s timeout around one call, the signal passed to it.
  {
    name: 'aiomisc_timeout',
    group: 'timeout',
    peer: false,
    make: (target) => swallow(timeout(1000)(target)),
  },
  {
    name: 'cockatiel_timeout_cooperative',
    group: 'timeout',
    peer: true,
    make(target) {
      const policy = cockatielTimeout(1000, TimeoutStrategy.Cooperative);
      return swallow(() => policy.execute(() => target()));
    },
  },
];

function target(mode: Mode): {
  fn: () => Promise<number>;
  failed: () => number;
  calls: () => number;
} {
  let invocations = 0;
  let failures = 0;
  const failure = new Error('planned failure');
  return {
    fn:
      mode === 'ok'
        ? async () => {
            invocations++;
            return 1;
          }
        : async () => {
            invocations++;
            if (invocations % 10 === 0) {
              failures++;
              throw failure;
            }
            return 1;
          },
    failed: () => failures,
    calls: () => invocations,
  };
}

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 700);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/** Comma-separated substrings: only the cases whose name contains one of them (profiling). */
const only = process.env.BENCH_ONLY?.split(',') ?? null;

export async function runResilienceBench(): Promise<void> {
  const selected =
    only === null ? cases : cases.filter((item) => only.some((part) => item.name.includes(part)));
  const results = new Map<string, number[]>();
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const mode of ['ok', 'fail10pct'] as const) {
      for (const item of selected) {
        const t = target(mode);
        const call = item.make(t.fn);
        const ops = await opsPerSecond(call, { durationMs, warmupMs: 150 });
        // Let the pending timers and signals of a case go before the next case is measured.
        if (item.settleMs !== undefined)
          await new Promise((resolve) => setTimeout(resolve, item.settleMs));
        const key = `${mode}/${item.name}`;
        results.set(key, [...(results.get(key) ?? []), ops]);
      }
    }
  }
  for (const mode of ['ok', 'fail10pct'] as const) {
    const best = (group: Group) =>
      Math.max(
        ...selected
          .filter((item) => item.peer && item.group === group)
          .map((item) => median(results.get(`${mode}/${item.name}`)!)),
      );
    for (const item of selected) {
      const ops = median(results.get(`${mode}/${item.name}`)!);
      const figures: Record<string, unknown> = { ops_per_s: Math.round(ops), rounds };
      if (item.group !== 'bare')
        figures.ratio_vs_fastest_peer = Math.round((ops / best(item.group)) * 100) / 100;
      report('resilience', `${mode}/${item.name}`, figures);
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
