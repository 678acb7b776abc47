import { runNetworkBench } from './network';

await runNetworkBench();
