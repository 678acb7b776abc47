import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';
import { LOG_FORMATS, type LogFormatName } from '@aiomisc/core';

/**
 * True when `fd` is the stream journald reads: systemd sets `JOURNAL_STREAM=<dev>:<inode>` for a
 * service whose stdout/stderr goes to the journal, and the check compares it with the fd.
 * @internal
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.JOURNAL_STREAM;
  if (!value) return false;
  const [dev, ino] = value.split(':');
  try {
    const stat = fstatSync(fd, { bigint: true });
    return String(stat.dev) === dev && String(stat.ino) === ino;
  } catch {
    return false;
  }
}

/**
 * The seed's log formats. `choices()` lists them (core's `LOG_FORMATS`); `default()` picks
 * `journald` when stderr is the journal stream of a systemd service (`JOURNAL_STREAM`), `color`
 * when stderr is a TTY, otherwise `json`.
 *
 * @example
 * ```ts
 * LogFormat.choices(); // ['stream', 'color', 'json', 'syslog', 'plain', 'journald', 'rich', 'rich_tb', 'disabled']
 * basicConfig({ logFormat: LogFormat.default() });
 * ```
 */
export const LogFormat = {
  /** Every format name, in the seed's order. */
  choices(): LogFormatName[] {
    return [...LOG_FORMATS];
  },
  /**
   * The format used when none is given and `AIOMISC_LOG_FORMAT` is unset.
   * @param fd the descriptor logs go to. @default 2 (stderr)
   */
  default(fd = 2, env: NodeJS.ProcessEnv = process.env): LogFormatName {
    if (isJournalStream(fd, env)) return 'journald';
    if (isatty(fd)) return 'color';
    return 'json';
  },
} as const;
