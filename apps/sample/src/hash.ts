// CPU work for the default thread pool: this module is imported again in the worker threads,
// so it only defines functions.
import { createHash } from 'node:crypto';
import { threaded } from '@aiomisc/pool';

/** Hashes `text` `rounds` times with SHA-256 in a worker thread. */
export const stretchHash = threaded(
  import.meta.url,
  'stretchHash',
  (text: string, rounds: number) => {
    let digest = text;
    for (let round = 0; round < rounds; round++)
      digest = createHash('sha256').update(digest).digest('hex');
    return digest;
  },
);
