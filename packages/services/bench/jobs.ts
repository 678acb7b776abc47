// Scheduler overhead and tick lateness: CronService / PeriodicService vs croner and a bare
// setInterval, in the same run. One JSON line per case.
import { configureConsoleLogger } from '@aiomisc/core';
import { report, round } from '@aiomisc/bench';
import { Cron } from 'croner';

import { CronCallback, CronService, PeriodicService } from '../src/index';

const JOBS = Number(process.env.BENCH_CRON_JOBS ?? 10_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CRON_SECONDS = Number(process.env.BENCH_CRON_SECONDS ?? 20);

function timers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

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

/** Lateness of each tick against the one before: (gap - interval), setInterval vs PeriodicService. */
function bareTicks(interval: number): Promise<number[]> {
  return new Promise((resolve) => {
    const late: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      late.push(Math.max(0, now - last - interval));
      last = now;
      if (late.length === TICKS) {
        clearInterval(timer);
        resolve(late);
      }
    }, interval);
  });
}

function serviceTicks(interval: number): Promise<number[]> {
  return new Promise((resolve) => {
    const late: number[] = [];
    let last = performance.now();
    class Tick extends PeriodicService {
      async callback(): Promise<void> {
        const now = performance.now();
        late.push(Math.max(0, now - last - interval));
        last = now;
        if (late.length === TICKS) void this.stop().then(() => resolve(late));
      }
    }
    void new Tick({ interval }).start();
  });
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function periodicLateness(): Promise<void> {
  const interval = 10;
  const bare: ReturnType<typeof percentiles>[] = [];
  const ours: ReturnType<typeof percentiles>[] = [];
  // Interleaved rounds: the machine is shared, so each pair sees about the same load.
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
    bare.push(percentiles(await bareTicks(interval)));
    ours.push(percentiles(await serviceTicks(interval)));
  }
  const summary = (rows: ReturnType<typeof percentiles>[]) => ({
    p50_us: median(rows.map((row) => row.p50_us)),
    p99_us: median(rows.map((row) => row.p99_us)),
    max_us: Math.max(...rows.map((row) => row.max_us)),
  });
  const bareFigures = summary(bare);
  const ourFigures = summary(ours);
  report('services.jobs', `periodic ${interval} ms: lateness per tick (setInterval)`, {
    ticks: TICKS,
    rounds: ROUNDS,
    ...bareFigures,
  });
  report('services.jobs', `periodic ${interval} ms: lateness per tick (PeriodicService)`, {
    ticks: TICKS,
    rounds: ROUNDS,
    ...ourFigures,
    p50_vs_setInterval: round(ourFigures.p50_us / Math.max(bareFigures.p50_us, 1)),
    p99_vs_setInterval: round(ourFigures.p99_us / Math.max(bareFigures.p99_us, 1)),
  });
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
