export { AiomiscError } from './errors/aiomisc-error';
export { AsyncRequiredError } from './errors/async-required-error';
export { InterruptSignalError } from './errors/interrupt-signal-error';
export { InvalidArgumentError } from './errors/invalid-argument-error';
export { InvalidStateError } from './errors/invalid-state-error';
export { RequiredOptionsError } from './errors/required-options-error';
export { ShutdownTimeoutError } from './errors/shutdown-timeout-error';
export { StrategySkip, StrategyStop } from './errors/strategy';

export { awaitable } from './awaitable';
export { bindSocket } from './bind-socket';
export { Context, ContextStatistic, getContext } from './context';
export { Entrypoint, entrypoint } from './entrypoint';
export { serviceName } from './shutdown-report';
export { defaultPoolSize, resolveEntrypointOptions } from './entrypoint-options';
export { envBoolean, envChoice, envNumber } from './environment';
export { Event } from './event';
export { getExtensions, registerExtension } from './extension';
export { LOG_FORMATS, LOG_LEVELS } from './log-names';
export { MAX_TIMER_DELAY, setLongTimeout } from './long-timeout';
export { configureConsoleLogger, getLogger, getLoggerFactory, setLoggerFactory } from './logger';
export { exitWithParent } from './parent-watchdog';
export { PeriodicCallback } from './periodic-callback';
export { loadPlugins } from './plugins';
export { RecurringCallback, RecurringCallbackStatistic } from './recurring-callback';
export { run } from './run';
export { select, SelectResult } from './select';
export { Service } from './service';
export { receiver, Signal } from './signal';
export { sleep } from './sleep';
export { getStatistics, Statistic } from './statistic';
export { cancelTasks, createTask, Task } from './task';
export { readPem, tlsClientOptions, tlsServerOptions } from './tls-options';
export { expectBoolean, expectFunction, expectNumber, expectOneOf } from './validate';

export type { BindSocketOptions } from './bind-socket';
export type { EntrypointSignalPayload } from './entrypoint';
export type { ServiceStopReport } from './shutdown-report';
export type { EntrypointOptions, ResolvedEntrypointOptions } from './entrypoint-options';
export type { EntrypointExtension, LoggingOptions } from './extension';
export type { LogFormatName, LogLevelName } from './log-names';
export type { Logger, LoggerFactory } from './logger';
export type { LongTimeout } from './long-timeout';
export type { PeriodicStartOptions } from './periodic-callback';
export type { Plugin } from './plugins';
export type { ErrorClass, RecurringStartOptions, RecurringStrategy } from './recurring-callback';
export type { RunContext } from './run';
export type {
  Selectable,
  SelectableValue,
  SelectOptions,
  SelectOutcome,
  SelectValues,
} from './select';
export type { ServiceClass } from './service';
export type { Receiver } from './signal';
export type { StatisticResult } from './statistic';
export type { PemSource, TlsFileOptions } from './tls-options';
export type { NumberConstraints } from './validate';
