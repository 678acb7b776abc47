import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const announced = new Set();

/** Whether an executable named `name` is on PATH. */
export function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Whether the system command a test needs is installed. When it is missing: under `CI=true`
 * this throws (CI must run the real thing); otherwise it prints one line naming what to install
 * and returns false, so the caller can `describe.skipIf(!available)`.
 */
export function systemCommand(name, options = {}) {
  if (onPath(name)) return true;
  const install = options.install ?? `apt-get install ${name}`;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`${name} is not on PATH and CI=true requires it: install it (${install})`);
  }
  if (!announced.has(name)) {
    announced.add(name);
    process.stderr.write(
      `SKIPPED: tests that need ${name}: it is not on PATH; install it (${install}) to run them\n`,
    );
  }
  return false;
}
