import { getLogger, Service } from '@aiomisc/core';

import { ensureDataFile } from './data-file.js';

const log = getLogger('sample.config');

/** The settings the other services wait for in the context. */
export interface AppConfig {
  greeting: string;
  startedAt: string;
}

/**
 * Writes the gzip data file when it is missing, then puts the application settings into the
 * entrypoint's context: the Greeter and the API wait for them with `context.get('config')`, so
 * no service needs a start order.
 */
export class ConfigService extends Service<{ greeting: string; dataFile: string }> {
  static override required = ['greeting', 'dataFile'];

  async start() {
    await ensureDataFile(this.options.dataFile);
    const config: AppConfig = {
      greeting: this.options.greeting,
      startedAt: new Date().toISOString(),
    };
    this.context.set('config', config);
  }

  override async stop() {
    log.info({ service: 'ConfigService' }, 'ConfigService stopped');
  }
}
