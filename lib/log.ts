import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Options for {@link createLogger}. Entry points read the environment and pass what they found.
 */
export interface LogOptions {
  /** @default 'info' */
  level?: string;
  /** Component name added to every line, e.g. `controller` or `webhook`. */
  name?: string;
  /** Where lines go. @default standard error, so command output on stdout stays clean */
  destination?: NodeJS.WritableStream;
}

/**
 * A structured (JSON lines) logger: `{"level":"info","time":...,"name":"controller","msg":...}`,
 * with the level as a name (as controller-runtime's zap and most log pipelines expect), not
 * pino's number. Secrets under the usual field names are redacted.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: options.name ? { name: options.name } : {},
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['password', 'token', '*.password', '*.token', 'headers.authorization'], censor: '[redacted]' },
  };
  return pino(config, (options.destination ?? process.stderr) as pino.DestinationStream);
}

/** A logger that drops everything: the default for libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
