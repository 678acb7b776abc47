// Tasks of the WorkerPool: each runs in a forked process, which imports this module by its URL,
// so it only defines functions.

/** Counts the primes below `limit` (CPU work for a worker process). */
export function countPrimes(limit: number): { limit: number; primes: number; pid: number } {
  const sieve = new Uint8Array(limit);
  let primes = 0;
  for (let n = 2; n < limit; n++) {
    if (sieve[n]) continue;
    primes++;
    for (let multiple = n * n; multiple < limit; multiple += n) sieve[multiple] = 1;
  }
  return { limit, primes, pid: process.pid };
}
