import { runResilienceBench } from './resilience';

await runResilienceBench();
