const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function offset(date: Date, colon: boolean): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

/**
 * Formats an epoch-milliseconds time with Python's `strftime` directives in local time, as the
 * seed's `log_date_format` does: `%Y %y %m %d %H %I %M %S %p %f` (microseconds) `%j %a %A %b %B
 * %z %Z %s` (epoch seconds) `%X` (`%H:%M:%S`) `%x` (`%m/%d/%y`) `%c %F %T %%`. Unknown
 * directives are kept as written.
 *
 * @example
 * ```ts
 * strftime('[%Y-%m-%d %H:%M:%S]', Date.now()); // '[2026-11-25 23:22:16]'
 * ```
 */
export function strftime(format: string, time: number): string {
  const date = new Date(time);
  return format.replace(/%([a-zA-Z%])/g, (whole, directive: string) => {
    switch (directive) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return pad(date.getFullYear() % 100);
      case 'm':
        return pad(date.getMonth() + 1);
      case 'd':
        return pad(date.getDate());
      case 'H':
        return pad(date.getHours());
      case 'I':
        return pad(date.getHours() % 12 || 12);
      case 'M':
        return pad(date.getMinutes());
      case 'S':
        return pad(date.getSeconds());
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'f':
        return pad(date.getMilliseconds() * 1000, 6);
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1).getTime();
        return pad(Math.floor((date.getTime() - start) / 86_400_000) + 1, 3);
      }
      case 'a':
        return days[date.getDay()]!.slice(0, 3);
      case 'A':
        return days[date.getDay()]!;
      case 'b':
        return months[date.getMonth()]!.slice(0, 3);
      case 'B':
        return months[date.getMonth()]!;
      case 'z':
        return offset(date, false);
      case 'Z':
        return Intl.DateTimeFormat().resolvedOptions().timeZone;
      case 's':
        return (time / 1000).toFixed(3);
      case 'X':
        return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
      case 'x':
        return `${pad(date.getMonth() + 1)}/${pad(date.getDate())}/${pad(date.getFullYear() % 100)}`;
      case 'F':
        return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
      case 'T':
        return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
      case 'c':
        return date.toString().slice(0, 24);
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}

/** RFC 3339 time with milliseconds and the local offset, as RFC 5424 wants. @internal */
export function rfc3339(time: number): string {
  const date = new Date(time);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `.${pad(date.getMilliseconds(), 3)}${offset(date, true)}`
  );
}
