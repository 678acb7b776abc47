import { latencyMicros, report, round, throughput } from '@aiomisc/bench';

export interface PoolCase {
  name: string;
  call: () => Promise<unknown>;
}

export interface PoolFigures {
  p50_us: number;
  p99_us: number;
  ops_per_s: number;
}

/**
 * Measures every case in the same run: sequential latency in `rounds` interleaved blocks (the
 * median block p50/p99 is kept, since vCPU wake-ups move single blocks a lot on this VM), then
 * the throughput with 256 calls in flight.
 */
export async function measure(
  cases: PoolCase[],
  options: { calls: number; rounds: number; durationMs: number },
): Promise<Map<string, PoolFigures>> {
  const latencies = new Map<string, Array<{ p50_us: number; p99_us: number }>>();
  for (const { call } of cases) for (let index = 0; index < 200; index++) await call();
  for (let round = 0; round < options.rounds; round++) {
    for (const { name, call } of cases) {
      const result = await latencyMicros(call, options.calls);
      latencies.set(name, [...(latencies.get(name) ?? []), result]);
    }
  }
  const figures = new Map<string, PoolFigures>();
  for (const { name, call } of cases) {
    const ops = await throughput(call, { inFlight: 256, durationMs: options.durationMs });
    const blocks = latencies.get(name)!;
    figures.set(name, {
      p50_us: median(blocks.map((block) => block.p50_us)),
      p99_us: median(blocks.map((block) => block.p99_us)),
      ops_per_s: Math.round(ops),
    });
  }
  return figures;
}

/** Prints one line per case with its ratios against `baseline`. */
export function print(bench: string, figures: Map<string, PoolFigures>, baseline: string): void {
  const base = figures.get(baseline)!;
  for (const [name, figure] of figures) {
    report(bench, name, {
      ...figure,
      ops_ratio_vs_baseline: round(figure.ops_per_s / base.ops_per_s),
      p50_ratio_vs_baseline: round(figure.p50_us / base.p50_us),
      baseline,
    });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
