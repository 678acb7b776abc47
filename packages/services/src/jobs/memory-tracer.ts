import { expectNumber, getLogger, InvalidStateError, Service } from '@aiomisc/core';
import { InspectorSampler } from './inspector-sampler';
import { frameLocation, humanizeBytes } from './inspector-session';

/** Options of {@link MemoryTracer}. */
export interface MemoryTracerOptions {
  /** Time between two tables, in ms. @default 5000 */
  interval?: number;
  /** Rows in a table. @default 20 */
  topResults?: number;
  /** Average bytes between two samples of V8's sampling heap profiler. @default 32768 */
  samplingInterval?: number;
}

/** One row of a {@link MemoryTracer} table. */
export interface MemoryTracerRow {
  /** Sampled live allocations at this site. */
  objects: number;
  objectsDiff: number;
  /** Their bytes (sampled sizes). */
  size: number;
  sizeDiff: number;
  /** `file:line(function)` of the allocation site. */
  location: string;
}

interface SamplingNode {
  id: number;
  selfSize: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children: SamplingNode[];
}
interface SamplingProfile {
  head: SamplingNode;
  samples: { size: number; nodeId: number }[];
}

const log = getLogger('aiomisc.service.tracer');

/**
 * Logs the top allocation sites of live memory every `interval` (the seed's `MemoryTracer`),
 * with V8's sampling heap profiler through `node:inspector` (no native addon): objects and
 * bytes per `file:line(function)` and their growth since the previous table.
 *
 * @example
 * ```ts
 * await entrypoint({ services: [new MemoryTracer({ interval: 1000, topResults: 5 })] }).start();
 * ```
 */
export class MemoryTracer extends Service<MemoryTracerOptions> {
  #sampler: InspectorSampler | undefined;
  #previous = new Map<string, { objects: number; size: number }>();

  constructor(options: MemoryTracerOptions = {}) {
    super(options);
    expectNumber('interval', this.options.interval ?? 5000, { min: Number.MIN_VALUE });
    expectNumber('topResults', this.options.topResults ?? 20, { min: 1, integer: true });
    expectNumber('samplingInterval', this.options.samplingInterval ?? 32768, {
      min: 1,
      integer: true,
    });
  }

  override async start(): Promise<void> {
    this.#previous = new Map();
    const interval = this.options.interval ?? 5000;
    const samplingInterval = this.options.samplingInterval ?? 32768;
    this.#sampler = await InspectorSampler.open(
      'memory-tracer',
      [['HeapProfiler.enable'], ['HeapProfiler.startSampling', { samplingInterval }]],
      interval,
      () => this.showStats(),
    );
  }

  override async stop(): Promise<void> {
    const sampler = this.#sampler;
    this.#sampler = undefined;
    await sampler?.close('HeapProfiler.stopSampling');
  }

  /** Takes a sample now and returns the top rows (what each table shows). */
  async takeSnapshot(): Promise<MemoryTracerRow[]> {
    const session = this.#sampler?.session;
    if (!session) throw new InvalidStateError('MemoryTracer is not started');
    const { profile } = await session.post<{ profile: SamplingProfile }>(
      'HeapProfiler.getSamplingProfile',
    );
    const locations = new Map<number, string>();
    const walk = (node: SamplingNode) => {
      locations.set(node.id, frameLocation(node.callFrame));
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const current = new Map<string, { objects: number; size: number }>();
    for (const sample of profile.samples) {
      const location = locations.get(sample.nodeId) ?? '(unknown)';
      const entry = current.get(location) ?? { objects: 0, size: 0 };
      entry.objects++;
      entry.size += sample.size;
      current.set(location, entry);
    }
    const rows: MemoryTracerRow[] = [...current].map(([location, { objects, size }]) => {
      const before = this.#previous.get(location) ?? { objects: 0, size: 0 };
      return {
        objects,
        objectsDiff: objects - before.objects,
        size,
        sizeDiff: size - before.size,
        location,
      };
    });
    this.#previous = current;
    rows.sort((a, b) => b.sizeDiff - a.sizeDiff || b.size - a.size);
    return rows.slice(0, this.options.topResults ?? 20);
  }

  /** Logs one table (called every interval). */
  async showStats(): Promise<void> {
    log.info(`Top memory usage:\n${formatMemoryTable(await this.takeSnapshot())}`);
  }
}

/** Renders rows the way the seed prints them. */
export function formatMemoryTable(rows: readonly MemoryTracerRow[]): string {
  const lines = [' Objects | Obj.Diff |   Memory | Mem.Diff | Traceback'];
  for (const row of rows) {
    lines.push(
      [
        String(row.objects).padStart(8),
        String(row.objectsDiff).padStart(8),
        humanizeBytes(row.size).padStart(8),
        humanizeBytes(row.sizeDiff).padStart(8),
        row.location,
      ].join(' | '),
    );
  }
  return lines.join('\n');
}
