import { runJobsBench } from './jobs';
import { runNetworkBench } from './network';

await runNetworkBench();
await runJobsBench();
