import { describe, expect, expectTypeOf, it } from 'vitest';
import { createTask, select, sleep, type SelectResult } from '../src/index';

// tsc --noEmit checks these types (the package's typecheck covers test/); vitest runs the values.
describe('select() types', () => {
  it('types mixed contenders position by position, and the winner as their union', async () => {
    const result = await select(
      Promise.resolve(1),
      async () => 'text',
      (signal: AbortSignal) => sleep(1000, { signal }).then(() => true),
      createTask(async () => ({ id: 7 })),
    );
    expectTypeOf(result[0]).toEqualTypeOf<number | undefined>();
    expectTypeOf(result[1]).toEqualTypeOf<string | undefined>();
    expectTypeOf(result[2]).toEqualTypeOf<boolean | undefined>();
    expectTypeOf(result[3]).toEqualTypeOf<{ id: number } | undefined>();
    expectTypeOf(result.result()).toEqualTypeOf<number | string | boolean | { id: number }>();
    expectTypeOf(result).toMatchTypeOf<SelectResult<number | string | boolean | { id: number }>>();
    const [first, second] = result;
    expectTypeOf(first).toEqualTypeOf<number | undefined>();
    expectTypeOf(second).toEqualTypeOf<string | undefined>();
    expect(result.result()).toBe(1);
    expect(result[0]).toBe(1);
    expect(result[1]).toBe(undefined);
    expect(result.length).toBe(4);
    expect([...result]).toEqual([1, undefined, undefined, undefined]);
  });

  it('keeps the positions when options come last', async () => {
    const result = await select(new Promise<number>(() => {}), async () => 'fast', {
      cancel: false,
    });
    expectTypeOf(result[1]).toEqualTypeOf<string | undefined>();
    expectTypeOf(result.result()).toEqualTypeOf<number | string>();
    expect(result[1]).toBe('fast');
    expect(result.at(-1)).toBe('fast');
    expect(result.resultIndex).toBe(1);
  });

  it('refuses what cannot be selected (checked by tsc: the directive fails if no error)', () => {
    const call = () =>
      // @ts-expect-error a number is neither a promise, a task nor a function
      select(5);
    expectTypeOf(call).toBeFunction();
  });
});
