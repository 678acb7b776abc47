/** An error as it crosses a thread or process boundary. @internal */
export interface SerializedError {
  /** false when the thrown value was not an Error: `value` is then the value itself. */
  isError: boolean;
  value?: unknown;
  name: string;
  constructorName: string;
  message: string;
  stack: string | undefined;
  props: Record<string, unknown>;
  markers: string[];
  cause?: SerializedError;
}

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** @internal */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (
    !(error instanceof Error) &&
    !(typeof error === 'object' && error !== null && 'message' in error && 'stack' in error)
  ) {
    return {
      isError: false,
      value: cloneable(error) ? error : String(error),
      name: 'Error',
      constructorName: 'Error',
      message: String(error),
      stack: undefined,
      props: {},
      markers: [],
    };
  }
  const source = error as Error & Record<string | symbol, unknown>;
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    const value = source[key];
    if (cloneable(value)) props[key] = value;
  }
  const markers: string[] = [];
  for (const symbol of Object.getOwnPropertySymbols(source)) {
    const key = Symbol.keyFor(symbol);
    if (key !== undefined && source[symbol] === true) markers.push(key);
  }
  const serialized: SerializedError = {
    isError: true,
    name: String(source.name),
    constructorName: (source.constructor as { name?: string } | undefined)?.name ?? 'Error',
    message: String(source.message),
    stack: typeof source.stack === 'string' ? source.stack : undefined,
    props,
    markers,
  };
  if (source.cause !== undefined && depth < 8)
    serialized.cause = serializeError(source.cause, depth + 1);
  return serialized;
}

const namedClasses = new Map<string, ErrorConstructor>();

function classFor(constructorName: string): ErrorConstructor {
  const builtin = builtins[constructorName];
  if (builtin) return builtin;
  let named = namedClasses.get(constructorName);
  if (!named) {
    // A subclass with the original class name, so `error.constructor.name` reads as it did in
    // the worker even though the class itself cannot cross.
    named = { [constructorName]: class extends Error {} }[
      constructorName
    ] as unknown as ErrorConstructor;
    namedClasses.set(constructorName, named);
  }
  return named;
}

/** @internal */
export function deserializeError(serialized: SerializedError): unknown {
  if (!serialized.isError) return serialized.value;
  const ErrorClass = classFor(serialized.constructorName);
  const error = new ErrorClass(serialized.message) as Error & Record<string | symbol, unknown>;
  Object.defineProperty(error, 'name', {
    value: serialized.name,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (serialized.stack !== undefined) {
    Object.defineProperty(error, 'stack', {
      value: serialized.stack,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.assign(error, serialized.props);
  for (const key of serialized.markers) {
    Object.defineProperty(error, Symbol.for(key), {
      value: true,
      enumerable: false,
      configurable: true,
    });
  }
  if (serialized.cause) {
    Object.defineProperty(error, 'cause', {
      value: deserializeError(serialized.cause),
      writable: true,
      configurable: true,
    });
  }
  return error;
}
