/** Whether `error` is the structured-clone failure of a message (DataCloneError). @internal */
export function isCloneError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: unknown }).name === 'DataCloneError' ||
      /could not be cloned/.test(String((error as { message?: unknown }).message)))
  );
}

/** Whether `value` survives structured clone (what postMessage and the IPC channel do). @internal */
export function isCloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The error of a task whose arguments (or ContextVar values) cannot cross to a worker: a
 * TypeError naming the cause, with the clone error as `cause`.
 * @internal
 */
export function uncloneableError(where: 'thread' | 'process', cause: unknown): TypeError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const error = new TypeError(
    `the task's ${where === 'thread' ? 'arguments (or ContextVar values)' : 'arguments'} cannot be sent to a worker ${where} (${detail}); pass only structured-cloneable values (no functions, sockets or class instances with private state)`,
  );
  (error as { cause?: unknown }).cause = cause;
  return error;
}
