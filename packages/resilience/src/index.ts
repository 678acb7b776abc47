export { CircuitBroken } from './errors/circuit-broken-error';
export { ResultNotSetError } from './errors/result-not-set-error';
export { TimeoutError } from './errors/timeout-error';

export { aggregate, aggregateAsync, AggregateStatistic } from './aggregate';
export { asyncbackoff, asyncretry, BackoffStatistic, RetryStatistic } from './backoff';
export {
  CircuitBreaker,
  CircuitBreakerStates,
  CircuitBreakerStatistic,
  cutout,
} from './circuit-breaker';
export { Future } from './future';
export { timeout } from './timeout';

export type { Aggregated, AggregatedCallOptions, AggregateOptions, Arg } from './aggregate';
export type { BackoffOptions, RetryOptions } from './backoff';
export type {
  CircuitBreakerOptions,
  CircuitBreakerScope,
  CircuitBreakerState,
  StateChangeListener,
} from './circuit-breaker';
export type { PlainWrapper, SignalFunction, SignalWrapper } from './wrap';
