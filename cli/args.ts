/**
 * Arguments and plain output shared by every command, with no import beyond Node's: parsing with
 * errors in our own words, kubectl-style tables and ages, `-o` formats.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../lib/suggest.js';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` (strict, positionals allowed unless `positionals: false`) whose mistakes are
 * {@link UsageError}s in our words: `unknown option --fo (did you mean --foo?)`,
 * `option --kubeconfig needs a value`, `option --local takes no value`, `unexpected argument "x"`.
 */
export function parse<O extends Options>(args: string[], options: O, settings: { positionals?: boolean } = {}) {
  try {
    return parseArgs({ args, options, allowPositionals: settings.positionals ?? true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err, options));
  }
}

function describeParseError(err: unknown, options: Options): string {
  const { code, message } = err as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(message ?? '')?.[1] ?? '';
  // Node quotes an option as `-f, --filename <value>`: name it by its long form.
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0] ?? quoted;
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
      return `unknown option ${flag}${didYouMean(flag, known)}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(message ?? '')
        ? `option ${flag} takes no value`
        : `option ${flag} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}": this command takes options only`;
    default:
      return message ?? String(err);
  }
}

/** `45s`, `12m`, `3h`, `4d` — how kubectl prints ages. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Left-aligned columns separated by two spaces, like kubectl. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** How a command prints what it found: a table (default), a wider table, or the objects themselves. */
export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name';

/** The `-o, --output` option, for commands that print objects. */
export const OUTPUT_OPTION = { output: { type: 'string', short: 'o' } } as const satisfies Options;

/**
 * The help line of {@link OUTPUT_OPTION}, given the formats a command supports beside its default,
 * the column its option texts start at, and what it prints by default.
 */
export function outputUsage(
  formats: readonly Exclude<OutputFormat, 'table'>[] = ['yaml', 'json', 'wide'],
  column = 25,
  byDefault = 'a table',
): string {
  return `  -o, --output <format>`.padEnd(column - 2) + `  ${formats.join(', ')} (default: ${byDefault})`;
}

/** The `-o` value checked against what the command supports; `table` when none was given. */
export function outputFormat(
  value: string | undefined,
  formats: readonly Exclude<OutputFormat, 'table'>[] = ['yaml', 'json', 'wide'],
): OutputFormat {
  if (value === undefined) return 'table';
  if ((formats as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`--output must be one of ${formats.join(', ')}, got "${value}"${didYouMean(value, formats)}`);
}

/** Everything on standard input, for `-f -`. */
export async function readStdin(io: { in?: NodeJS.ReadableStream }): Promise<string> {
  if (!io.in) throw new UsageError('-f - reads standard input, and there is none here');
  const chunks: Buffer[] = [];
  for await (const chunk of io.in) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
