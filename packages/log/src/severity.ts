// Level helpers shared with the transport worker; kept free of imports so the worker stays light.

/** pino's numeric level → the seed's upper-case level name shown by the human formats. @internal */
export function levelLabel(level: number): string {
  if (level >= 60) return 'CRITICAL';
  if (level >= 50) return 'ERROR';
  if (level >= 40) return 'WARNING';
  if (level >= 30) return 'INFO';
  if (level >= 20) return 'DEBUG';
  return 'NOTSET';
}

/** pino's numeric level → syslog severity (RFC 5424 table 2; sd-daemon `<N>` prefixes). @internal */
export function syslogSeverity(level: number): number {
  if (level >= 60) return 2; // critical
  if (level >= 50) return 3; // error
  if (level >= 40) return 4; // warning
  if (level >= 30) return 6; // informational
  return 7; // debug
}
