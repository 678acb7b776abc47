import { AiomiscError } from '@aiomisc/core';

const marker = Symbol.for('aiomisc.error.FunctionNotFoundError');

/**
 * A worker (thread or process) imported the module a task names, but found no function under
 * that name: neither registered with `threaded(moduleUrl, name, fn)` (or its siblings) nor
 * exported by the module.
 *
 * @example
 * ```ts
 * await pool.submit({ moduleUrl: import.meta.url, name: 'missing' }, []);
 * // FunctionNotFoundError: no function "missing" registered or exported by file:///app/jobs.js
 * ```
 */
export class FunctionNotFoundError extends AiomiscError {
  private readonly [marker] = true;
  /** The module URL the task named. */
  readonly moduleUrl: string;
  /** The function name the task named. */
  readonly functionName: string;

  constructor(moduleUrl: string, functionName: string) {
    super(`no function ${JSON.stringify(functionName)} registered or exported by ${moduleUrl}`);
    this.name = 'FunctionNotFoundError';
    this.moduleUrl = moduleUrl;
    this.functionName = functionName;
  }

  static override isInstance(error: unknown): error is FunctionNotFoundError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[marker] === true
    );
  }
}
