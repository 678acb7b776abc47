/** @internal argv marker of the ProcessService child entry. */
export const CHILD_MARKER = '--aiomisc-process-service';

/** @internal what the parent sends once: where the class lives and its options. */
export interface ParentMessage {
  module: string;
  exportName: string;
  options: unknown;
}

/** @internal what the child answers. */
export type ChildMessage = { type: 'started' } | { type: 'failed'; error: string };

const slot = Symbol.for('aiomisc.services.processChild');

/** @internal marks this process as a ProcessService child (seen by every copy of the package). */
export function markChild(): void {
  (globalThis as Record<symbol, unknown>)[slot] = true;
}

/** @internal whether this process is a ProcessService child. */
export function isChild(): boolean {
  return (globalThis as Record<symbol, unknown>)[slot] === true;
}
