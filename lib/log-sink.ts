import type { Logger } from 'pino';

/**
 * What a library logs through: the part of a pino {@link Logger} it calls (a Logger is one). Lets a
 * library default to {@link quietLog} without loading pino, which an offline command never needs.
 */
export type LogSink = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Drops every line: the default sink of a library used without a logger. */
export const quietLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };
