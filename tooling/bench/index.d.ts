export declare function opsPerSecond(
  fn: () => unknown,
  options?: { durationMs?: number; warmupMs?: number },
): Promise<number>;
export declare function latencyMicros(
  fn: () => Promise<unknown>,
  count: number,
): Promise<{ p50_us: number; p99_us: number }>;
export declare function throughput(
  fn: () => Promise<unknown>,
  options: { inFlight: number; durationMs?: number },
): Promise<number>;
export declare function round(value: number): number;
export declare function report(bench: string, name: string, figures: Record<string, unknown>): void;
