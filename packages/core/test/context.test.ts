import { describe, expect, it } from 'vitest';
import { Context, entrypoint, getContext, getStatistics, InvalidStateError } from '../src/index';

describe('Context', () => {
  it('resolves a get that came before the set', async () => {
    const context = new Context();
    const pending = context.get<number>('answer');
    expect(context.has('answer')).toBe(false);
    context.set('answer', 42);
    await expect(pending).resolves.toBe(42);
    await expect(context.get('answer')).resolves.toBe(42);
  });

  it('gives later reads the latest value', async () => {
    const context = new Context();
    context.set('flag', true);
    context.set('flag', false);
    await expect(context.get('flag')).resolves.toBe(false);
  });

  it('rejects pending gets when closed', async () => {
    const context = new Context();
    const pending = context.get('never');
    context.close();
    await expect(pending).rejects.toSatisfy((error) => InvalidStateError.isInstance(error));
    expect(() => context.set('late', 1)).toThrow(InvalidStateError);
  });

  it('counts gets and sets in ContextStatistic', async () => {
    const context = new Context({ statisticName: 'counted' });
    context.set('a', 1);
    await context.get('a');
    await context.get('a');
    expect(metrics('counted')).toEqual({ get: 2, set: 1 });
  });

  it('is reachable through getContext() while an entrypoint runs', async () => {
    const ep = await entrypoint({ catchSignals: [], plugins: false }).start();
    getContext().set('x', 1);
    await expect(ep.context.get('x')).resolves.toBe(1);
    await ep.stop();
    expect(() => getContext()).toThrow(InvalidStateError);
  });
});

function metrics(name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const { metric, value } of getStatistics('ContextStatistic').filter(
    (entry) => entry.name === name,
  )) {
    result[metric] = value;
  }
  return result;
}
