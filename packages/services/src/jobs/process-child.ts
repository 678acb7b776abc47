/**
 * The child side of ProcessService: forked with an IPC channel, it imports the module that
 * exports the service class, builds the service from the options the parent sent and runs
 * `inProcess()`. It leaves when `inProcess()` returns (exit 0) or throws (exit 1), when the
 * parent closes the channel, and, through a watchdog thread, when the parent dies even by
 * SIGKILL while `inProcess()` blocks the main thread.
 */
import { exitWithParent } from '@aiomisc/core';
import { pathToFileURL } from 'node:url';
import { CHILD_MARKER, markChild, type ChildMessage, type ParentMessage } from './process-protocol';

function send(message: ChildMessage): void {
  process.send?.(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function run(message: ParentMessage): Promise<void> {
  let service: { inProcess(): unknown };
  try {
    const specifier = /^[a-z][a-z0-9+.-]*:/i.test(message.module)
      ? message.module
      : pathToFileURL(message.module).href;
    markChild();
    const imported = (await import(specifier)) as Record<string, unknown>;
    const exported =
      imported[message.exportName] ??
      (imported.default as Record<string, unknown> | undefined)?.[message.exportName];
    if (typeof exported !== 'function') {
      throw new Error(`${message.module} has no export named ${message.exportName}`);
    }
    service = new (exported as new (options: unknown) => { inProcess(): unknown })(message.options);
    if (typeof service.inProcess !== 'function') {
      throw new Error(`${message.exportName} has no inProcess() method`);
    }
  } catch (error) {
    send({ type: 'failed', error: describe(error) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  send({ type: 'started' });
  try {
    await service.inProcess();
    process.exitCode ??= 0;
  } catch (error) {
    process.stderr.write(`${message.exportName}.inProcess() failed: ${describe(error)}\n`);
    process.exitCode = 1;
  }
  process.disconnect?.();
}

const markerAt = process.argv.indexOf(CHILD_MARKER);
if (markerAt === -1 || typeof process.send !== 'function') {
  process.stderr.write(
    `${process.argv[1] ?? 'this file'} is the child entry of @aiomisc/services ProcessService; it does nothing when started any other way.\n`,
  );
  process.exitCode = 1;
} else {
  process.on('disconnect', () => {
    // The parent stopped the service or died; an inProcess() that already returned set the code.
    process.exit(process.exitCode ?? 0);
  });
  const parent = Number(process.argv[markerAt + 1]);
  exitWithParent(parent, { interval: 200 });
  process.once('message', (message: ParentMessage) => void run(message));
}
