import { InvalidArgumentError } from '@aiomisc/core';

/** What a Python mode string asks for. @internal */
export interface ParsedMode {
  /** The mode as given. */
  mode: string;
  /** `r`, `w`, `a` or `x`. */
  kind: 'r' | 'w' | 'a' | 'x';
  /** `+` was given: reading and writing. */
  update: boolean;
  /** `b` was given: bytes in, bytes out. */
  binary: boolean;
  readable: boolean;
  writable: boolean;
  /** The `fs.open` flags. */
  flags: string;
}

const EXPECTED =
  'a Python file mode: one of r, w, a, x, optionally followed by + and by b or t (such as "r", "wb", "a+", "r+b")';

/**
 * Parses a Python file mode (`r`, `w`, `a`, `x`, each with an optional `+`, and `b` or `t`, in
 * any order as Python allows) or throws an {@link InvalidArgumentError} naming the mode.
 * @internal
 */
export function parseMode(mode: unknown): ParsedMode {
  if (typeof mode !== 'string' || mode.length === 0 || mode.length > 3) {
    throw new InvalidArgumentError('mode', mode, EXPECTED);
  }
  const seen = new Set<string>();
  for (const char of mode) {
    if (!'rwaxb+t'.includes(char) || seen.has(char))
      throw new InvalidArgumentError('mode', mode, EXPECTED);
    seen.add(char);
  }
  const kinds = (['r', 'w', 'a', 'x'] as const).filter((kind) => seen.has(kind));
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined || (seen.has('b') && seen.has('t'))) {
    throw new InvalidArgumentError('mode', mode, EXPECTED);
  }
  const update = seen.has('+');
  const flags = {
    r: update ? 'r+' : 'r',
    w: update ? 'w+' : 'w',
    a: update ? 'a+' : 'a',
    x: update ? 'wx+' : 'wx',
  }[kind];
  return {
    mode,
    kind,
    update,
    binary: seen.has('b'),
    readable: kind === 'r' || update,
    writable: kind !== 'r' || update,
    flags,
  };
}
