import { InvalidArgumentError } from '@aiomisc/core';

/** Flags that make Node run code other than the script it is given, with their value. */
const WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '--input-type']);
/** The same kind of flags, standing alone. */
const STANDALONE = new Set(['-i', '--interactive', '-c', '--check']);
/** Debugger flags that would make every child bind the parent's port (or wait for a debugger). */
const INSPECT = /^--inspect(?:-brk|-wait)?(?:=(.*))?$/;
const INSPECT_PORT = /^--(?:inspect|debug)-port(?:=.*)?$/;

/**
 * The Node flags a pool child inherits from this process: `process.execArgv` without what
 * would run the parent's code instead of the worker (`-e`/`--eval`, `-p`/`--print`, `-i`,
 * `-c`, `--input-type`), and with `--inspect*` moved to port 0 (a free port per child, no
 * wait for a debugger). Without this, a pool made in `node -e '...'` forks children that run
 * that code again, each making its own pool: a fork bomb.
 * @internal
 */
export function inheritedExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index++) {
    const flag = execArgv[index]!;
    const [name] = flag.split('=', 1) as [string];
    if (WITH_VALUE.has(name)) {
      if (name === flag) index++; // the value is the next element
      continue;
    }
    if (STANDALONE.has(flag)) continue;
    if (INSPECT_PORT.test(flag)) {
      if (!flag.includes('=')) index++;
      continue;
    }
    const inspect = INSPECT.exec(flag);
    if (inspect) {
      const value = inspect[1];
      const host = value?.includes(':') ? value.slice(0, value.lastIndexOf(':') + 1) : '';
      kept.push(`--inspect=${host}0`);
      continue;
    }
    kept.push(flag);
  }
  return kept;
}

/**
 * Checks a user-given `execArgv`: an array of strings (a string would be split into
 * characters by `fork`).
 * @internal
 */
export function expectExecArgv(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((flag) => typeof flag === 'string')) {
    throw new InvalidArgumentError(
      'execArgv',
      value,
      'an array of strings, one flag or value per element (e.g. ["--import", "tsx"])',
    );
  }
  return [...value];
}
