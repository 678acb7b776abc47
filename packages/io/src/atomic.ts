import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileExistsError } from './errors/file-exists-error';

/**
 * The target of an atomic write: the temporary file next to it, and how it takes its place.
 * @internal
 */
export class AtomicTarget {
  readonly temporaryPath: string;

  constructor(
    readonly path: string,
    private readonly exclusive: boolean,
  ) {
    this.temporaryPath = join(
      dirname(path),
      `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`,
    );
  }

  /** Fails early for `x` when the target exists; returns its permission bits when it does. */
  async prepare(): Promise<number | undefined> {
    try {
      const existing = await stat(this.path);
      if (this.exclusive) throw new FileExistsError(this.path);
      return existing.mode & 0o7777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Puts the closed, fsynced temporary file in place of the target, then fsyncs the directory. */
  async commit(): Promise<void> {
    try {
      if (this.exclusive) {
        // link() fails when the target appeared meanwhile: `x` never replaces a file.
        try {
          await link(this.temporaryPath, this.path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST')
            throw new FileExistsError(this.path);
          throw error;
        }
        await unlink(this.temporaryPath);
      } else {
        await rename(this.temporaryPath, this.path);
      }
    } catch (error) {
      await this.discard();
      throw error;
    }
    await syncDirectory(dirname(this.path));
  }

  /** Removes the temporary file (if it is still there). */
  async discard(): Promise<void> {
    try {
      await unlink(this.temporaryPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some systems (Windows) cannot open or fsync a directory; the rename is done either way.
  } finally {
    await handle?.close();
  }
}
