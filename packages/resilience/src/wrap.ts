import { expectFunction } from '@aiomisc/core';

/** A function that receives the AbortSignal of its run first, then the caller's arguments. */
export type SignalFunction<TArgs extends unknown[], TResult> = (
  signal: AbortSignal,
  ...args: TArgs
) => TResult | PromiseLike<TResult>;

/**
 * What {@link timeout}, {@link asyncbackoff} and {@link asyncretry} return: call it with a
 * function to wrap it (the function receives the run's AbortSignal first), or use it as a
 * TypeScript 5 method decorator (the method keeps its signature and gets no signal).
 */
export interface SignalWrapper {
  <TArgs extends unknown[], TResult>(fn: SignalFunction<TArgs, TResult>): (...args: TArgs) => Promise<TResult>;
  <TThis, TArgs extends unknown[], TResult>(
    method: (this: TThis, ...args: TArgs) => Promise<TResult>,
    context: ClassMethodDecoratorContext<TThis, (this: TThis, ...args: TArgs) => Promise<TResult>>,
  ): (this: TThis, ...args: TArgs) => Promise<TResult>;
}

/**
 * What {@link cutout} and {@link CircuitBreaker.wrap} return: call it with a function to wrap it
 * (same signature), or use it as a TypeScript 5 method decorator.
 */
export interface PlainWrapper {
  <TThis, TArgs extends unknown[], TResult>(
    fn: (this: TThis, ...args: TArgs) => TResult | PromiseLike<TResult>,
    context?: ClassMethodDecoratorContext<TThis, (this: TThis, ...args: TArgs) => TResult | PromiseLike<TResult>>,
  ): (this: TThis, ...args: TArgs) => Promise<TResult>;
}

/**
 * One run of a wrapped function: `fn` is called with `thisArg`, and with the run's signal
 * before `args` when `passSignal` is true (the higher-order form) or without it (a decorated
 * method).
 * @internal
 */
export type Run = (
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  passSignal: boolean,
) => Promise<unknown>;

/** @internal */
export function isDecoratorContext(value: unknown): value is ClassMethodDecoratorContext {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'method';
}

/**
 * Turns a {@link Run} into the wrapper/decorator every signal-aware helper returns.
 * @internal
 */
export function signalWrapper(run: Run): SignalWrapper {
  function wrap(fn: (...args: unknown[]) => unknown, context?: unknown): (...args: unknown[]) => Promise<unknown> {
    expectFunction('fn', fn);
    const passSignal = !isDecoratorContext(context);
    return function wrapped(this: unknown, ...args: unknown[]) {
      return run(fn, this, args, passSignal);
    };
  }
  return wrap as SignalWrapper;
}


/**
 * Calls `fn` and always returns a promise, turning a synchronous throw into a rejection.
 * @internal
 */
export function invoke(
  fn: (...args: unknown[]) => unknown,
  thisArg: unknown,
  args: unknown[],
  signal: AbortSignal | null,
): Promise<unknown> {
  try {
    const result = signal === null ? fn.apply(thisArg, args) : fn.call(thisArg, signal, ...args);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}
