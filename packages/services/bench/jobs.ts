// Scheduler overhead and tick lateness: CronService / PeriodicService vs croner and a bare
// setInterval, in the same run. One JSON line per case.
import { configureConsoleLogger } from '@aiomisc/core';
import { report, round } from '@aiomisc/bench';
import { Cron } from 'croner';

import { CronCallback, CronService, PeriodicService } from '../src/index';

const JOBS = Number(process.env.BENCH_CRON_JOBS ?? 10_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const CRON_SECONDS = Number(process.env.BENCH_CRON_SECONDS ?? 20);

function timers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

/** a / b to two decimals (the differences that matter here are a few per cent). */
const ratio = (a: number, b: number) => Math.round((a / Math.max(b, 1)) * 100) / 100;

/** p50/p99/max of lateness samples given in ms, reported in µs. */
function percentiles(values: number[]): { p50_us: number; p99_us: number; max_us: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    p50_us: Math.round(at(0.5) * 1000),
    p99_us: Math.round(at(0.99) * 1000),
    max_us: Math.round((sorted.at(-1) ?? 0) * 1000),
  };
}

/** Specs spread over the day so the next runs differ: `m h * * *`, `*\/n * * * *`, seconds. */
function spec(index: number): string {
  switch (index % 3) {
    case 0:
      return `${index % 60} ${index % 24} * * *`;
    case 1:
      return `*/${(index % 29) + 1} * * * *`;
    default:
      return `${index % 60} ${index % 60} * * * *`;
  }
}

async function schedulerOverhead(): Promise<void> {
  const noop = () => undefined;
  const before = timers();
  let t0 = performance.now();
  const cron = new CronService();
  for (let index = 0; index < JOBS; index++) {
    cron.register(noop, spec(index), { name: `job-${index}`, timeZone: 'Europe/Berlin' });
  }
  const registered = performance.now() - t0;
  t0 = performance.now();
  await cron.start();
  const started = performance.now() - t0;
  const ours = {
    register_ms: round(registered),
    next_runs_ms: round(started),
    timers: timers() - before,
  };
  await cron.stop();

  const beforeCroner = timers();
  t0 = performance.now();
  const jobs: Cron[] = [];
  for (let index = 0; index < JOBS; index++) {
    jobs.push(new Cron(spec(index), { timezone: 'Europe/Berlin', name: `job-${index}` }, noop));
  }
  const croner = { schedule_ms: round(performance.now() - t0), timers: timers() - beforeCroner };
  for (const job of jobs) job.stop();

  report('services.jobs', `cron: ${JOBS} jobs, parse + next run + arm (CronService)`, {
    ...ours,
    total_ms: round(registered + started),
  });
  report('services.jobs', `cron: ${JOBS} jobs, parse + next run + arm (croner)`, {
    total_ms: croner.schedule_ms,
    timers: croner.timers,
    ratio_vs_croner: round(croner.schedule_ms / (registered + started)),
  });
}

/** Records each tick's lateness against the one before, (gap - interval) in ms; false when done. */
function lateness(interval: number): { tick: () => boolean; done: Promise<number[]> } {
  const late: number[] = [];
  let last = performance.now();
  let finish!: (values: number[]) => void;
  const done = new Promise<number[]>((resolve) => (finish = resolve));
  const tick = () => {
    const now = performance.now();
    late.push(Math.max(0, now - last - interval));
    last = now;
    if (late.length < TICKS) return true;
    finish(late);
    return false;
  };
  return { tick, done };
}

/** A bare setInterval whose callback is the same async function PeriodicService runs (or a sync one). */
function bareTicks(interval: number, asyncBody: boolean): Promise<number[]> {
  const { tick, done } = lateness(interval);
  const timer: NodeJS.Timeout = setInterval(
    asyncBody
      ? async () => {
          if (!tick()) clearInterval(timer);
        }
      : () => {
          if (!tick()) clearInterval(timer);
        },
    interval,
  );
  return done;
}

/**
 * What one writes by hand for runs that never overlap: a `setTimeout` armed again once the same
 * async callback has settled (PeriodicService's semantics, without its counters or stop()).
 */
function handTicks(interval: number): Promise<number[]> {
  const { tick, done } = lateness(interval);
  let more = true;
  const callback = async () => {
    more = tick();
  };
  const run = () => {
    void callback().then(() => {
      if (more) setTimeout(run, interval);
    });
  };
  setTimeout(run, interval);
  return done;
}

function serviceTicks(interval: number, fixedRate = false): Promise<number[]> {
  const { tick, done } = lateness(interval);
  class Tick extends PeriodicService {
    async callback(): Promise<void> {
      if (!tick()) void this.stop();
    }
  }
  void new Tick({ interval, fixedRate }).start();
  return done;
}

/** p50/p99/max over all the rounds' samples pooled, in µs. */
async function periodicLateness(): Promise<void> {
  const interval = 10;
  const samples = {
    sync: [] as number[],
    async: [] as number[],
    hand: [] as number[],
    ours: [] as number[],
    rate: [] as number[],
  };
  // Interleaved rounds in alternating order: the machine is shared, so each kind sees about
  // the same load, and none always runs right after another.
  const kinds = [
    () => bareTicks(interval, false).then((late) => samples.sync.push(...late)),
    () => bareTicks(interval, true).then((late) => samples.async.push(...late)),
    () => handTicks(interval).then((late) => samples.hand.push(...late)),
    () => serviceTicks(interval).then((late) => samples.ours.push(...late)),
    () => serviceTicks(interval, true).then((late) => samples.rate.push(...late)),
  ];
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    const order = roundIndex % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) await kind();
  }
  const sync = percentiles(samples.sync);
  const bare = percentiles(samples.async);
  const hand = percentiles(samples.hand);
  const ours = percentiles(samples.ours);
  const rate = percentiles(samples.rate);
  const base = { ticks: TICKS * ROUNDS, rounds: ROUNDS };
  report(
    'services.jobs',
    `periodic ${interval} ms: lateness per tick (setInterval, sync callback)`,
    {
      ...base,
      ...sync,
    },
  );
  report(
    'services.jobs',
    `periodic ${interval} ms: lateness per tick (setInterval, async callback)`,
    {
      ...base,
      ...bare,
    },
  );
  report('services.jobs', `periodic ${interval} ms: lateness per tick (setTimeout after the run)`, {
    ...base,
    ...hand,
    p50_vs_setInterval: ratio(hand.p50_us, bare.p50_us),
  });
  report('services.jobs', `periodic ${interval} ms: lateness per tick (PeriodicService)`, {
    ...base,
    ...ours,
    p50_vs_setInterval: ratio(ours.p50_us, bare.p50_us),
    p99_vs_setInterval: ratio(ours.p99_us, bare.p99_us),
    p50_vs_sync_setInterval: ratio(ours.p50_us, sync.p50_us),
    p50_vs_hand_written: ratio(ours.p50_us, hand.p50_us),
  });
  report(
    'services.jobs',
    `periodic ${interval} ms: lateness per tick (PeriodicService fixedRate)`,
    {
      ...base,
      ...rate,
      p50_vs_setInterval: ratio(rate.p50_us, bare.p50_us),
      p99_vs_setInterval: ratio(rate.p99_us, bare.p99_us),
    },
  );
}

/** Both every-second cron schedulers side by side: ms after the due second a run starts. */
async function cronLateness(): Promise<void> {
  const ours: number[] = [];
  const theirs: number[] = [];
  // ms after the full second, with sub-ms precision from the monotonic clock
  const afterSecond = () => (performance.timeOrigin + performance.now()) % 1000;
  const callback = new CronCallback(() => void ours.push(afterSecond()), { name: 'bench' });
  callback.start('* * * * * *');
  const job = new Cron('* * * * * *', () => void theirs.push(afterSecond()));
  await new Promise((resolve) => setTimeout(resolve, CRON_SECONDS * 1000 + 200));
  await callback.stop();
  job.stop();
  const ourFigures = percentiles(ours);
  const theirFigures = percentiles(theirs);
  report('services.jobs', 'cron every second: lateness after the due second (croner)', {
    ticks: theirs.length,
    ...theirFigures,
  });
  report('services.jobs', 'cron every second: lateness after the due second (CronCallback)', {
    ticks: ours.length,
    ...ourFigures,
    p50_vs_croner: round(ourFigures.p50_us / Math.max(theirFigures.p50_us, 1)),
    p99_vs_croner: round(ourFigures.p99_us / Math.max(theirFigures.p99_us, 1)),
  });
}

export async function runJobsBench(): Promise<void> {
  configureConsoleLogger({ level: 'error' });
  await schedulerOverhead();
  await periodicLateness();
  await cronLateness();
}

if (import.meta.url === `file://${process.argv[1]}`) await runJobsBench();
