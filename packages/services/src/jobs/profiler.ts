import { writeFile } from 'node:fs/promises';
import { expectNumber, expectOneOf, getLogger, InvalidStateError, Service } from '@aiomisc/core';
import { InspectorSampler } from './inspector-sampler';
import { frameLocation } from './inspector-session';

/** Options of {@link Profiler}. */
export interface ProfilerOptions {
  /** Length of one profile, in ms. @default 10000 */
  interval?: number;
  /** Functions listed per profile. @default 10 */
  topResults?: number;
  /** `cumulative` (time in the function and what it called) or `self`. @default 'cumulative' */
  order?: 'cumulative' | 'self';
  /**
   * Where each interval's profile is written as a `.cpuprofile` (Chrome DevTools, VS Code,
   * speedscope load it); overwritten every interval. @default undefined (not written)
   */
  path?: string;
  /** Microseconds between two samples of V8's CPU profiler. @default 1000 */
  samplingInterval?: number;
}

/** One function of a {@link Profiler} report. */
export interface ProfilerRow {
  /** Samples in the function itself, as ms. */
  selfTime: number;
  /** Samples in the function and what it called, as ms. */
  totalTime: number;
  /** `file:line(function)`. */
  location: string;
}

/** A V8 CPU profile, the `.cpuprofile` format. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const log = getLogger('aiomisc.service.profiler');

/**
 * Profiles the CPU in intervals (the seed's `Profiler`), with V8's sampling profiler through
 * `node:inspector` (no native addon): every `interval` it logs the top functions ordered by
 * cumulative or self time and, with `path`, writes the profile as a `.cpuprofile` file.
 *
 * @example
 * ```ts
 * const profiler = new Profiler({ interval: 1000, topResults: 5, path: '/tmp/app.cpuprofile' });
 * await entrypoint({ services: [profiler] }).start();
 * ```
 */
export class Profiler extends Service<ProfilerOptions> {
  #sampler: InspectorSampler | undefined;

  constructor(options: ProfilerOptions = {}) {
    super(options);
    expectNumber('interval', this.options.interval ?? 10_000, { min: Number.MIN_VALUE });
    expectNumber('topResults', this.options.topResults ?? 10, { min: 1, integer: true });
    expectNumber('samplingInterval', this.options.samplingInterval ?? 1000, {
      min: 1,
      integer: true,
    });
    expectOneOf('order', this.options.order ?? 'cumulative', ['cumulative', 'self']);
  }

  override async start(): Promise<void> {
    const interval = this.options.interval ?? 10_000;
    this.#sampler = await InspectorSampler.open(
      'profiler',
      [
        ['Profiler.enable'],
        ['Profiler.setSamplingInterval', { interval: this.options.samplingInterval ?? 1000 }],
        ['Profiler.start'],
      ],
      interval,
      () => this.rotate(),
    );
  }

  override async stop(): Promise<void> {
    const sampler = this.#sampler;
    this.#sampler = undefined;
    await sampler?.close('Profiler.stop', 'Profiler.disable');
  }

  /** Ends the current profile, starts the next, logs the top functions and writes the file. */
  async rotate(): Promise<CpuProfile> {
    const session = this.#sampler?.session;
    if (!session) throw new InvalidStateError('Profiler is not started');
    const { profile } = await session.post<{ profile: CpuProfile }>('Profiler.stop');
    await session.post('Profiler.start');
    const order = this.options.order ?? 'cumulative';
    const rows = summarizeProfile(profile, order).slice(0, this.options.topResults ?? 10);
    const duration = (profile.endTime - profile.startTime) / 1000;
    log.info(
      `${profile.samples.length} samples in ${duration.toFixed(0)} ms\n\nOrdered by: ${order} time\n\n${formatProfileTable(rows)}`,
    );
    if (this.options.path) await writeFile(this.options.path, JSON.stringify(profile));
    return profile;
  }
}

/** Self and cumulative time per function of a profile, sorted by `order`. */
export function summarizeProfile(
  profile: CpuProfile,
  order: 'cumulative' | 'self' = 'cumulative',
): ProfilerRow[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const sampleMs = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index + 1] ?? profile.timeDeltas[index] ?? 0) / 1000;
    sampleMs.set(id, (sampleMs.get(id) ?? 0) + Math.max(0, delta));
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  // Walk from the root, keeping the functions on the current stack, so recursion counts once.
  const root = profile.nodes[0];
  const visit = (id: number, stack: Map<string, number>): number => {
    const node = byId.get(id);
    if (!node) return 0;
    const location = frameLocation(node.callFrame);
    const own = sampleMs.get(id) ?? 0;
    let inside = own;
    stack.set(location, (stack.get(location) ?? 0) + 1);
    for (const child of node.children ?? []) inside += visit(child, stack);
    const depth = stack.get(location)! - 1;
    if (depth === 0) {
      stack.delete(location);
      total.set(location, (total.get(location) ?? 0) + inside);
    } else stack.set(location, depth);
    self.set(location, (self.get(location) ?? 0) + own);
    return inside;
  };
  if (root) visit(root.id, new Map());
  const skip = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);
  const rows = [...total]
    .filter(([location]) => ![...skip].some((name) => location.endsWith(`(${name})`)))
    .map(([location, totalTime]) => ({ location, totalTime, selfTime: self.get(location) ?? 0 }));
  rows.sort((a, b) =>
    order === 'self'
      ? b.selfTime - a.selfTime || b.totalTime - a.totalTime
      : b.totalTime - a.totalTime,
  );
  return rows;
}

/** Renders profile rows as a table. */
export function formatProfileTable(rows: readonly ProfilerRow[]): string {
  const lines = ['  self ms | total ms | function'];
  for (const row of rows) {
    lines.push(
      `${row.selfTime.toFixed(1).padStart(9)} | ${row.totalTime.toFixed(1).padStart(8)} | ${row.location}`,
    );
  }
  return lines.join('\n');
}
