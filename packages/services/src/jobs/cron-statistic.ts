import { Statistic } from '@aiomisc/core';

/**
 * Counters of one cron job, named after it. `sum_time` is in ms; `skipped` counts due runs
 * not started because the previous run was still going (or the process was too late for
 * them); `locked` counts due runs another replica took (or that a lock error skipped).
 */
export class CronCallbackStatistic extends Statistic {
  readonly kind = 'CronCallbackStatistic';
  call_count = 0;
  done = 0;
  fail = 0;
  sum_time = 0;
  skipped = 0;
  locked = 0;
}
