/** The log formats of the seed, in the order `LogFormat.choices()` lists them. */
export const LOG_FORMATS = [
  'stream',
  'color',
  'json',
  'syslog',
  'plain',
  'journald',
  'rich',
  'rich_tb',
  'disabled',
] as const;

/** One of {@link LOG_FORMATS}. */
export type LogFormatName = (typeof LOG_FORMATS)[number];

/** The log levels of the seed, most to least severe. */
export const LOG_LEVELS = ['critical', 'error', 'warning', 'info', 'debug', 'notset'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevelName = (typeof LOG_LEVELS)[number];
