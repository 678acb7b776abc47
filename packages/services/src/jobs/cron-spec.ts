import { InvalidArgumentError } from '@aiomisc/core';
import { CronExpressionParser, type CronExpression } from 'cron-parser';

/**
 * Parses a cron spec for a time zone, or throws an {@link InvalidArgumentError} naming the
 * spec (or the time zone) and what is wrong, so a bad spec fails at `register()`/`start()`,
 * not at the first tick.
 * @internal
 */
export function parseCronSpec(
  spec: unknown,
  timeZone: unknown,
): { expression: CronExpression; firstAt: number; parsedAt: number } {
  if (timeZone !== undefined) expectTimeZone(timeZone);
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new InvalidArgumentError('spec', spec, 'a cron expression string');
  }
  const fields = spec.trim().split(/\s+/);
  if (!spec.trim().startsWith('@') && (fields.length < 5 || fields.length > 6)) {
    throw new InvalidArgumentError(
      'spec',
      spec,
      `a cron expression of 5 fields, or 6 with seconds first (it has ${fields.length})`,
    );
  }
  const parsedAt = Date.now();
  try {
    // The first next() also catches specs that parse but never match (30 February).
    const expression = CronExpressionParser.parse(spec, {
      tz: timeZone as string | undefined,
      currentDate: new Date(parsedAt),
    });
    return { expression, firstAt: expression.next().getTime(), parsedAt };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError('spec', spec, `a valid cron expression (${reason})`);
  }
}

const knownZones = new Set<string>();

function expectTimeZone(timeZone: unknown): string {
  if (typeof timeZone === 'string') {
    if (knownZones.has(timeZone)) return timeZone;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      knownZones.add(timeZone);
      return timeZone;
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidArgumentError(
    'timeZone',
    timeZone,
    'an IANA time zone name such as "Europe/Berlin"',
  );
}
