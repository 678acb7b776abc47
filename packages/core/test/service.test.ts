import { describe, expect, it } from 'vitest';
import {
  AsyncRequiredError,
  entrypoint,
  InvalidArgumentError,
  InvalidStateError,
  RequiredOptionsError,
  Service,
} from '../src/index';

interface HelloOptions {
  name?: string;
  greeting?: string;
}

class Hello extends Service<HelloOptions> {
  static override defaults: Partial<HelloOptions> = { greeting: 'hello' };
  // A class field with the same name as an option must not clobber the options.
  name = 'field';
  async start() {}
}

class Polite extends Hello {
  static override defaults: Partial<HelloOptions> = { name: 'world' };
}

class NeedsHost extends Service<{ host?: string; port?: number }> {
  static override required = ['host', 'port'];
  async start() {}
}

describe('Service', () => {
  it('merges options over the defaults of the class and its bases', () => {
    const polite = new Polite({ greeting: 'hi' });
    expect(polite.options).toEqual({ greeting: 'hi', name: 'world' });
    expect(polite.name).toBe('field');
    expect(new Hello().options).toEqual({ greeting: 'hello' });
  });

  it('names the class and the missing keys when required options are absent', () => {
    let error: unknown;
    try {
      new NeedsHost({ port: 1 });
    } catch (caught) {
      error = caught;
    }
    expect(RequiredOptionsError.isInstance(error)).toBe(true);
    expect((error as RequiredOptionsError).className).toBe('NeedsHost');
    expect((error as RequiredOptionsError).missing).toEqual(['host']);
    expect((error as Error).message).toContain('NeedsHost');
    expect(() => new NeedsHost({ host: 'h', port: 1 })).not.toThrow();
  });

  it('rejects classes whose asyncRequired methods are not async', () => {
    class BadHello extends Service {
      static override asyncRequired = ['start', 'greeting'];
      async start() {}
      greeting() {
        return 'hi';
      }
    }
    let error: unknown;
    try {
      new BadHello();
    } catch (caught) {
      error = caught;
    }
    expect(AsyncRequiredError.isInstance(error)).toBe(true);
    expect((error as AsyncRequiredError).methods).toEqual(['greeting']);
    expect((error as Error).message).toContain('BadHello.greeting');
  });

  it('rejects a stop() override that is not async', () => {
    class SyncStop extends Service {
      async start() {}
      override stop(): Promise<void> {
        return Promise.resolve();
      }
    }
    expect(() => new SyncStop()).toThrow(/SyncStop\.stop/);
  });

  it('has no context before an entrypoint starts it', () => {
    expect(() => new Hello().context).toThrow(InvalidStateError);
  });

  it('refuses something that is not a service, naming it', () => {
    let error: unknown;
    try {
      entrypoint({ services: [new Hello(), { start: async () => {} } as never] });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('services[1]');
  });
});
