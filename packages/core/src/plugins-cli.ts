import { parseArgs } from 'node:util';
import { Entrypoint } from './entrypoint';
import { LOG_FORMATS, LOG_LEVELS, type LogFormatName, type LogLevelName } from './log-names';
import { getLogger } from './logger';
import { loadPlugins, type Plugin } from './plugins';
import { expectOneOf } from './validate';

const usage = `Usage: aiomisc-plugins [-q|-s] [-n] [-l LEVEL] [-F FORMAT]

Lists the aiomisc plugins declared by this application and its dependencies.

  -q, -s, --quiet, --silent  log nothing
  -n, --no-output            print no plugin names on stdout
  -l, --level LEVEL          log level: ${LOG_LEVELS.join(', ')} (default info)
  -F, --format FORMAT        log format: ${LOG_FORMATS.join(', ')}
  -h, --help                 show this help`;

/**
 * The `aiomisc-plugins` command: loads the plugins of the application in `cwd`, logs each
 * with its description and prints their names on stdout. Returns the exit code.
 * @internal exported for the bin and its tests.
 */
export async function pluginsCli(argv: string[], cwd: string = process.cwd()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quiet: { type: 'boolean', short: 'q' },
        silent: { type: 'boolean', short: 's' },
        'no-output': { type: 'boolean', short: 'n' },
        level: { type: 'string', short: 'l' },
        format: { type: 'string', short: 'F' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let level: LogLevelName;
  let format: LogFormatName | undefined;
  try {
    level =
      values.quiet || values.silent
        ? 'critical'
        : expectOneOf('--level', values.level ?? 'info', LOG_LEVELS);
    format =
      values.format === undefined ? undefined : expectOneOf('--format', values.format, LOG_FORMATS);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const log = getLogger('aiomisc.plugins');
  let plugins: Plugin[];
  try {
    plugins = await loadPlugins(cwd);
  } catch (error) {
    process.stderr.write(`${String(error)}\n`);
    return 1;
  }
  const entrypoint = new Entrypoint({
    logLevel: level,
    logFormat: format,
    logBuffering: false,
    catchSignals: [],
    plugins: false,
  });
  await entrypoint.start();
  try {
    for (const plugin of plugins) {
      log.info(`Plugin ${plugin.name} from ${plugin.packageName}: ${plugin.description}`);
      if (!values['no-output']) process.stdout.write(`${plugin.name}\n`);
    }
  } finally {
    await entrypoint.stop();
  }
  return 0;
}
