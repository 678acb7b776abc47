import { runIoBench } from './io';

await runIoBench();
