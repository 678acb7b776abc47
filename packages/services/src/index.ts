// network
export { RobustTCPClient, TCPClient } from './network/tcp-client';
export { RobustTLSClient, TLSClient } from './network/tls-client';
export {
  TCPClientStatistic,
  TCPServerStatistic,
  TLSServerStatistic,
  UDPServerStatistic,
} from './network/statistics';
export { TCPServer } from './network/tcp-server';
export { TLSServer } from './network/tls-server';
export { UDPServer } from './network/udp-server';

export type { ClientOptions } from './network/client-base';
export type { BoundAddress, ListenOptions } from './network/options';
export type { ReconnectOptions } from './network/reconnect';
export type { RobustTCPClientOptions, TCPClientOptions } from './network/tcp-client';
export type { TCPServerOptions } from './network/tcp-server';
export type {
  RobustTLSClientOptions,
  TLSClientFileOptions,
  TLSClientOptions,
} from './network/tls-client';
export type { TLSServerOptions } from './network/tls-server';
export type { DatagramTarget, UDPServerOptions } from './network/udp-server';

// jobs
export { CarbonSender, stripCarbonNamespace } from './jobs/carbon-sender';
export { CronCallback } from './jobs/cron-callback';
export { CronCallbackStatistic } from './jobs/cron-statistic';
export { CronService } from './jobs/cron-service';
export { formatMemoryTable, MemoryTracer } from './jobs/memory-tracer';
export { PeriodicService } from './jobs/periodic-service';
export {
  ProcessService,
  ProcessStartError,
  RespawningProcessService,
} from './jobs/process-service';
export { formatProfileTable, Profiler, summarizeProfile } from './jobs/profiler';
export { SDWatchdogService } from './jobs/sd-watchdog-service';
export { SentrySender } from './jobs/sentry-sender';

export type { CarbonSenderOptions } from './jobs/carbon-sender';
export type { CronStartOptions } from './jobs/cron-callback';
export type { CronRegisterOptions, CronServiceOptions } from './jobs/cron-service';
export type { MemoryTracerOptions, MemoryTracerRow } from './jobs/memory-tracer';
export type { PeriodicServiceOptions } from './jobs/periodic-service';
export type {
  ProcessServiceOptions,
  RespawningProcessServiceOptions,
} from './jobs/process-service';
export type { CpuProfile, ProfilerOptions, ProfilerRow } from './jobs/profiler';
export type { SDWatchdogServiceOptions } from './jobs/sd-watchdog-service';
export type { SentrySenderOptions } from './jobs/sentry-sender';
export type { CronLockOptions, RedisLockClient } from './jobs/redis-lock';
