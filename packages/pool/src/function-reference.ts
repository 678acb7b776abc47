import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '@aiomisc/core';
import { FunctionNotFoundError } from './errors/function-not-found-error';
import { globalSlot } from './global-slot';

/**
 * Names a function that another thread or process can find: the module that defines it (a
 * `file:` URL such as `import.meta.url`, or an absolute path such as `__filename`) and the name
 * it was registered under (or its export name). Functions cannot cross threads or processes;
 * the worker imports the module and looks the name up.
 */
export interface FunctionReference {
  /** `import.meta.url`, `__filename`, or any `file:` URL or absolute path of a module. */
  readonly moduleUrl: string;
  /** The name given to `threaded(moduleUrl, name, fn)` and its siblings, or an export name. */
  readonly name: string;
}

/** Anything that names a function: a {@link FunctionReference} or a wrapper that carries one. */
export type FunctionTarget = FunctionReference | { readonly reference: FunctionReference };

type AnyFunction = (...args: never[]) => unknown;

const registry = globalSlot('functions', () => new Map<string, AnyFunction>());
const resolved = globalSlot('resolved', () => new Map<string, AnyFunction>());

/**
 * Turns `import.meta.url`, `__filename` or a `URL` into the `file:` URL string used as a key.
 * @internal
 */
export function normalizeModuleUrl(argument: string, moduleUrl: unknown): string {
  if (moduleUrl instanceof URL) return moduleUrl.href;
  if (typeof moduleUrl === 'string') {
    if (moduleUrl.startsWith('file:')) return new URL(moduleUrl).href;
    if (isAbsolute(moduleUrl)) return pathToFileURL(moduleUrl).href;
  }
  throw new InvalidArgumentError(
    argument,
    moduleUrl,
    'a file: URL (import.meta.url) or an absolute path (__filename)',
  );
}

const ownUrl = import.meta.url;
const workerState = globalSlot('workerState', () => ({ inWorker: false }));

/** The `file:` URL of the script this process was started with, if any. */
function mainScriptUrls(): string[] {
  const main = process.argv[1];
  if (!main) return [];
  const urls = [pathToFileURL(resolve(main)).href];
  try {
    urls.push(pathToFileURL(realpathSync(resolve(main))).href);
  } catch {
    // not a file (a REPL, -e): nothing to compare with
  }
  return urls;
}

/**
 * Refuses a function whose module was bundled into the app's entry file together with this
 * package: a worker would import that file to find it, and run the whole app again (start its
 * entrypoint, fork its pools) in every thread and process.
 */
function checkNotInMainBundle(url: string, name: string): void {
  if (url !== ownUrl || workerState.inWorker) return;
  if (!mainScriptUrls().includes(url)) return;
  throw new InvalidArgumentError(
    'moduleUrl',
    url,
    `a module of its own for "${name}": it was bundled into the app's entry file, so a worker would import that file and run the whole app again. When bundling, make every module that defines threaded functions (or exports pool tasks) an entry point of its own, with code splitting (see the @aiomisc/pool README, "Bundling")`,
  );
}

/** @internal */
export function makeReference(moduleUrl: unknown, name: unknown): FunctionReference {
  const url = normalizeModuleUrl('moduleUrl', moduleUrl);
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError('name', name, 'a non-empty string');
  }
  checkNotInMainBundle(url, name);
  return Object.freeze({ moduleUrl: url, name });
}

/** @internal */
export function toReference(argument: string, target: unknown): FunctionReference {
  const candidate =
    typeof target === 'object' || typeof target === 'function'
      ? ((target as { reference?: unknown } | null)?.reference ?? target)
      : target;
  if (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof (candidate as FunctionReference).moduleUrl === 'string' &&
    typeof (candidate as FunctionReference).name === 'string'
  ) {
    const { moduleUrl, name } = candidate as FunctionReference;
    return makeReference(moduleUrl, name);
  }
  throw new InvalidArgumentError(
    argument,
    target,
    'a { moduleUrl, name } reference or a function made by threaded()/threadedIterable()',
  );
}

/** Registers `fn` under `moduleUrl#name` in this thread. @internal */
export function registerFunction(reference: FunctionReference, fn: AnyFunction): void {
  last.fn = undefined;
  registry.set(`${reference.moduleUrl}#${reference.name}`, fn);
}

// Keep `import()` a real dynamic import in the CJS build (tsup is configured for it) so a
// worker loads ESM and CJS user modules alike.
const importModule = async (url: string): Promise<Record<string, unknown>> => {
  if (!isMainThread) await (threadLoaders ??= registerTsxInThread());
  return import(url) as Promise<Record<string, unknown>>;
};

let threadLoaders: Promise<void> | undefined;

/**
 * An app run with `node --import tsx` has TypeScript modules, but on Node 20 the `--import`
 * a worker thread inherits does not reach its module loader, so the thread could not import
 * them: the thread registers tsx itself (resolved from the app's working directory), once,
 * before its first import. Child processes run `--import` themselves.
 */
async function registerTsxInThread(): Promise<void> {
  const flags = process.execArgv;
  const tsx = flags.some(
    (flag, index) =>
      (flag === '--import' && /^tsx(?:\/esm)?$/.test(flags[index + 1] ?? '')) ||
      /^--import=tsx(?:\/esm)?$/.test(flag),
  );
  if (!tsx) return;
  try {
    // The ESM flavour of tsx's API (its CommonJS one registers for require() only).
    const api = createRequire(join(process.cwd(), 'noop.js'))
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs');
    const module = (await import(pathToFileURL(api).href)) as {
      register?: () => unknown;
      default?: { register?: () => unknown };
    };
    (module.register ?? module.default?.register)?.();
  } catch {
    // tsx cannot be found from here: the import that follows reports what fails
  }
}

/**
 * Finds the function a reference names, importing its module first when it is not registered
 * in this thread yet. The module's own top-level `threaded(import.meta.url, name, fn)` calls
 * register it; a plain export of that name works too.
 * @throws {@link FunctionNotFoundError} when neither exists.
 * @internal
 */
export async function resolveFunction(moduleUrl: string, name: string): Promise<AnyFunction> {
  const key = `${moduleUrl}#${name}`;
  const known = registry.get(key) ?? resolved.get(key);
  if (known) return known;
  const module = await importModule(moduleUrl);
  const defaults = module.default as Record<string, unknown> | undefined;
  const found =
    registry.get(key) ??
    module[name] ??
    (typeof defaults === 'object' || typeof defaults === 'function' ? defaults?.[name] : undefined);
  if (typeof found !== 'function') throw new FunctionNotFoundError(moduleUrl, name);
  resolved.set(key, found as AnyFunction);
  return found as AnyFunction;
}

/** The function if it is already known in this thread (no import). @internal */
export function lookupFunction(moduleUrl: string, name: string): AnyFunction | undefined {
  // Workers mostly run the same function over and over: skip building the key for it.
  if (moduleUrl === last.moduleUrl && name === last.name && last.fn) return last.fn;
  const key = `${moduleUrl}#${name}`;
  const fn = registry.get(key) ?? resolved.get(key);
  if (fn) {
    last.moduleUrl = moduleUrl;
    last.name = name;
    last.fn = fn;
  }
  return fn;
}

const last: { moduleUrl: string; name: string; fn: AnyFunction | undefined } = {
  moduleUrl: '',
  name: '',
  fn: undefined,
};
