import { describe, expect, it } from 'vitest';
import { Event, InvalidArgumentError, InvalidStateError, receiver, Signal } from '../src/index';

describe('Signal', () => {
  it('calls receivers one after another in connection order', async () => {
    const log: string[] = [];
    const signal = new Signal<string>();
    signal.connect(async (value) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`first ${value}`);
    });
    const second = receiver(signal)((value: string) => log.push(`second ${value}`));
    expect(typeof second).toBe('function');
    await signal.call('x');
    expect(log).toEqual(['first x', 'second x']);
    signal.disconnect(second);
    expect(signal.size).toBe(1);
  });

  it('stops at the first receiver error', async () => {
    const log: string[] = [];
    const signal = new Signal<void>();
    signal.connect(() => {
      throw new Error('receiver failed');
    });
    signal.connect(() => log.push('not reached'));
    await expect(signal.call()).rejects.toThrow('receiver failed');
    expect(log).toEqual([]);
  });

  it('refuses changes once frozen; a copy is unfrozen', () => {
    const signal = new Signal<void>().freeze();
    expect(signal.isFrozen).toBe(true);
    expect(() => signal.connect(() => {})).toThrow(InvalidStateError);
    expect(() => signal.disconnect(() => {})).toThrow(InvalidStateError);
    expect(signal.copy().isFrozen).toBe(false);
  });

  it('rejects a receiver that is not a function', () => {
    expect(() => new Signal().connect(null as never)).toThrow(InvalidArgumentError);
  });
});

describe('Event', () => {
  it('wakes waiters once set', async () => {
    const event = new Event();
    let woke = false;
    const waiting = event.wait().then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    event.set();
    event.set();
    await waiting;
    expect(event.isSet).toBe(true);
    await event.wait();
  });
});
