import { benchProcesses } from './processes';
import { benchResources } from './resources';
import { benchThreads } from './threads';

// Every case runs against its peers in the same process and run: one JSON line per case.
await benchThreads();
await benchProcesses();
await benchResources();
