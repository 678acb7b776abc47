import { describe, expect, expectTypeOf, it } from 'vitest';
import { ProcessPoolExecutor, threaded, ThreadPoolExecutor, WorkerPool } from './helpers';

const jobsUrl = new URL('./fixtures/esm-jobs.mjs', import.meta.url).href;
// Typed twins of fixtures' functions: same module URL and name, so the workers run the
// fixture's own registration; here they give the types.
const add = threaded(jobsUrl, 'add', (a: number, b: number) => a + b);
const multiply = threaded(jobsUrl, 'multiply', (a: number, b: number) => ({
  product: a * b,
  pid: process.pid,
}));
const whoAmI = threaded(jobsUrl, 'whoAmI', () => process.pid);

describe('submit typed from the threaded function it is given', () => {
  it('ThreadPoolExecutor.submit infers the result and checks the arguments', async () => {
    await using pool = new ThreadPoolExecutor(1);
    const sum = pool.submit(add, [1, 2]);
    expectTypeOf(sum).toEqualTypeOf<Promise<number>>();
    expect(await sum).toBe(3);
    // @ts-expect-error a string is not a number
    void pool.submit(add, [1, '2']).catch(() => undefined);
    // @ts-expect-error the arguments are required
    void pool.submit(add).catch(() => undefined);
    // A reference is untyped unless told.
    expectTypeOf(pool.submit({ moduleUrl: jobsUrl, name: 'add' }, [1, 2])).toEqualTypeOf<
      Promise<unknown>
    >();
    expectTypeOf(pool.submit<number>({ moduleUrl: jobsUrl, name: 'add' }, [1, 2])).toEqualTypeOf<
      Promise<number>
    >();
    expectTypeOf(pool.submit(whoAmI)).toEqualTypeOf<Promise<number>>();
    expect(await pool.submit(whoAmI)).toBe(process.pid);
  });

  it('WorkerPool and ProcessPoolExecutor infer the same way', async () => {
    await using pool = new WorkerPool(1);
    await using executor = new ProcessPoolExecutor(1);
    const task = pool.createTask(multiply, 2, 3);
    expectTypeOf(task).toEqualTypeOf<Promise<{ product: number; pid: number }>>();
    expect((await task).product).toBe(6);
    const submitted = executor.submit(multiply, [4, 5]);
    expectTypeOf(submitted).toEqualTypeOf<Promise<{ product: number; pid: number }>>();
    expect((await submitted).product).toBe(20);
    expectTypeOf(pool.submit(multiply, [1, 1])).toEqualTypeOf<
      Promise<{ product: number; pid: number }>
    >();
    // @ts-expect-error two numbers expected
    void pool.createTask(multiply, 'x').catch(() => undefined);
    // @ts-expect-error two numbers expected
    void executor.submit(multiply, [1]).catch(() => undefined);
  });
});
