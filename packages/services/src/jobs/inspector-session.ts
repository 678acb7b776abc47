import { Session } from 'node:inspector';

/** @internal a connected node:inspector session with a promise-returning `post`. */
export class InspectorSession {
  readonly #session = new Session();

  constructor() {
    this.#session.connect();
  }

  post<TResult = unknown>(method: string, params?: object): Promise<TResult> {
    return new Promise((resolve, reject) => {
      this.#session.post(method, params ?? {}, (error, result) =>
        error ? reject(error) : resolve(result as TResult),
      );
    });
  }

  disconnect(): void {
    this.#session.disconnect();
  }

  /** Posts `methods` in order (stopping what the session sampled), then disconnects, whatever fails. */
  async end(...methods: string[]): Promise<void> {
    try {
      for (const method of methods) await this.post(method);
    } finally {
      this.disconnect();
    }
  }
}

/** @internal where a call frame points, shortened to the path below the working directory. */
export function frameLocation(frame: {
  functionName: string;
  url: string;
  lineNumber: number;
}): string {
  const cwd = `file://${process.cwd()}/`;
  const url = frame.url.startsWith(cwd) ? frame.url.slice(cwd.length) : frame.url;
  const where = url ? `${url}:${frame.lineNumber + 1}` : '(native)';
  return `${where}(${frame.functionName || '(anonymous)'})`;
}

/** 1024-based size with one decimal: `512.0B`, `1.5KiB` (the seed's `humanize`). */
export function humanizeBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)}${units[unit]}`;
}
