import { Service, sleep } from '@aiomisc/core';

/** The settings the other services read from the context. */
export interface AppConfig {
  greeting: string;
  startedAt: string;
}

/** Loads the configuration (here: from the environment, after a pretend round trip) into the context. */
export class ConfigService extends Service {
  async start() {
    await sleep(50, { signal: this.signal });
    const config: AppConfig = {
      greeting: process.env.GREETING ?? 'hello from aiomisc',
      startedAt: new Date().toISOString(),
    };
    this.context.set('config', config);
  }
}
