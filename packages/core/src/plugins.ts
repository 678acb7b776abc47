import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { globalSlot } from './global-registry';
import { getLogger } from './logger';

/**
 * A plugin found in a package's `package.json`:
 * `"aiomisc": { "plugins": { "<name>": "./dist/plugin.js" } }`. The module may export
 * `setup()` (called once when it loads; it typically connects receivers to
 * `Entrypoint.PRE_START` and the other class signals or calls `registerExtension`) and a
 * `description` string.
 */
export interface Plugin {
  /** The name under `aiomisc.plugins`. */
  name: string;
  /** The package that declares it. */
  packageName: string;
  /** Absolute path of the module. */
  path: string;
  /** The module's `description` export, else the package's description. */
  description: string;
  /** The loaded module. */
  module: Record<string, unknown>;
}

interface PackageJson {
  name?: string;
  description?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  aiomisc?: { plugins?: Record<string, string> };
}

const log = getLogger('aiomisc.plugins');
const loaded = globalSlot('plugins', () => new Map<string, Promise<Plugin[]>>());

/**
 * Finds and loads the plugins declared by the application at `cwd` (its nearest
 * `package.json`) and by its dependencies, once per application directory: later calls return
 * the same list. `cwd` defaults to the directory of the main script (`process.argv[1]`), so an
 * app started as `node /srv/app/dist/main.js` from anywhere finds its own plugins, else to the
 * working directory. Set `AIOMISC_NO_PLUGINS` to a non-empty value to load none. A module that
 * fails to import is logged and skipped; a `setup()` that throws rejects the call, as the
 * Python does. Entrypoints call it at start.
 *
 * @example
 * ```ts
 * for (const plugin of await loadPlugins()) console.log(plugin.name, plugin.description);
 * ```
 */
export function loadPlugins(cwd: string = applicationDirectory()): Promise<Plugin[]> {
  if (process.env.AIOMISC_NO_PLUGINS) return Promise.resolve([]);
  const root = findPackageRoot(resolve(cwd));
  if (!root) return Promise.resolve([]);
  let plugins = loaded.get(root);
  if (!plugins) {
    plugins = importPlugins(root);
    loaded.set(root, plugins);
  }
  return plugins;
}

function applicationDirectory(): string {
  const main = process.argv[1];
  if (main) {
    try {
      return dirname(realpathSync(main));
    } catch {
      // Not a file (a REPL, `node -e`): fall back to the working directory.
    }
  }
  return process.cwd();
}

function findPackageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

function findDependency(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

async function importPlugins(root: string): Promise<Plugin[]> {
  const app = readPackage(root) ?? {};
  const dirs = new Set<string>([root]);
  const names = Object.keys({
    ...app.dependencies,
    ...app.optionalDependencies,
    ...app.devDependencies,
  });
  for (const name of names) {
    const dir = findDependency(root, name);
    if (dir) dirs.add(dir);
  }
  const plugins: Plugin[] = [];
  for (const dir of dirs) {
    const pkg = readPackage(dir);
    const declared = pkg?.aiomisc?.plugins;
    if (!pkg || !declared) continue;
    for (const [name, relative] of Object.entries(declared)) {
      const path = resolve(dir, relative);
      let module: Record<string, unknown>;
      try {
        module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
      } catch (error) {
        log.error({ err: error }, `Cannot load plugin ${name} from ${pkg.name ?? dir} (${path})`);
        continue;
      }
      const description =
        typeof module.description === 'string' ? module.description : (pkg.description ?? '');
      if (typeof module.setup === 'function') {
        try {
          await (module.setup as () => unknown)();
        } catch (error) {
          log.error({ err: error }, `Plugin ${name} from ${pkg.name ?? dir} failed in setup()`);
          throw error;
        }
      }
      plugins.push({ name, packageName: pkg.name ?? dir, path, description, module });
    }
  }
  return plugins;
}
