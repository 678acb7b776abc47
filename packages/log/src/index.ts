export { basicConfig, flush, getLogger } from './basic-config';
export { strftime } from './date-format';
export { LogLevel } from './levels';
export { LogFormat } from './log-format';
export { LOGGING_EXTENSION, registerLogging } from './register-logging';
export { transportEntryPoints } from './transport-sink';
export { BufferedHandlerStatistic, wrapLoggingHandler } from './wrap-logging-handler';

export type { AiomiscLogger, BasicConfigOptions, LogHandler } from './basic-config';
export type { SyslogOptions } from './syslog-endpoint';
export type { BufferedLogHandler, WrapLoggingHandlerOptions } from './wrap-logging-handler';
