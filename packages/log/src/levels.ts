import { expectOneOf, LOG_LEVELS, type LogLevelName } from '@aiomisc/core';
import type { Level } from 'pino';

const toPino: Record<LogLevelName, Level> = {
  critical: 'fatal',
  error: 'error',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  notset: 'trace',
};

/**
 * The seed's log levels and how they map onto pino's: `critical` → `fatal`, `warning` → `warn`,
 * `notset` → `trace` (everything); `error`, `info` and `debug` keep their names.
 *
 * @example
 * ```ts
 * LogLevel.choices(); // ['critical', 'error', 'warning', 'info', 'debug', 'notset']
 * LogLevel.toPino('warning'); // 'warn'
 * ```
 */
export const LogLevel = {
  /** Every level name, most to least severe (core's `LOG_LEVELS`). */
  choices(): LogLevelName[] {
    return [...LOG_LEVELS];
  },
  /** The level used when none is given and `AIOMISC_LOG_LEVEL` is unset. @default 'info' */
  default(): LogLevelName {
    return 'info';
  },
  /**
   * The pino level name of a seed level.
   * @throws {@link InvalidArgumentError} naming the value and listing the choices.
   */
  toPino(level: LogLevelName): Level {
    return toPino[expectOneOf('level', level, LOG_LEVELS)];
  },
} as const;
