import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchProcesses } from './processes';
import { benchResources } from './resources';
import { benchThreads } from './threads';

// Every case runs against its peers in the same process and run: one JSON line per case.
await benchThreads();
await benchProcesses();
await benchResources();

// Sequential latency again, pinned to one CPU, when `taskset` exists.
const pinned = spawnSync(
  'taskset',
  [
    '-c',
    '0',
    process.execPath,
    '--import',
    'tsx',
    fileURLToPath(new URL('./latency-1cpu.ts', import.meta.url)),
  ],
  {
    stdio: 'inherit',
    timeout: 60_000,
  },
);
if (pinned.error) console.error(`pinned latency skipped: ${pinned.error.message}`);
