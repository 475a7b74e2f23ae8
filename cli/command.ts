/**
 * What a `trellis` subcommand is. The registry (`cli/commands.ts`) holds each command's name and
 * one-line summary and imports its module only when it runs, so `trellis --help` and the offline
 * commands never load what they do not use (the Kubernetes client costs most of a second).
 */
export interface Command {
  /**
   * Full help for `trellis <name> --help`, in the house style (a test checks every command):
   * `trellis <name> — <what it does>`, a blank line, `Usage: trellis <name> ...`, a description,
   * then `Options:` with one `  -x, --long <value>   text` line per option (continuation lines indented).
   */
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
  /**
   * Candidates for the word being completed after `trellis <name> <args...>` (shell completion).
   * Options are completed from `usage`; this adds what the positional arguments can be.
   * @default none
   */
  complete?(args: string[], io: CommandIO): Promise<string[]>;
}

/** One line of the registry: enough for `trellis --help` without importing the command. */
export interface CommandSpec {
  name: string;
  /** One line for `trellis --help`, starting lower-case, no full stop. */
  summary: string;
  /** Where `--help` lists it. */
  group: CommandGroup;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

export type CommandGroup = 'Applications' | 'Definitions' | 'Functions' | 'GitOps' | 'Run Trellis' | 'Other';

export interface CommandIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Standard input, for `-f -`. @default none (reading it fails with a usage error) */
  in?: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Ends the process at once: long-running commands call it when shutdown outlasts its timeout.
   * @default none (in-process runs, such as tests, are never ended)
   */
  exit?: (code: number) => void;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * True for a {@link UsageError}. By name, not `instanceof`: command modules are imported
 * dynamically, and under a test runner's CommonJS hook that can be a second copy of this module.
 */
export function isUsageError(err: unknown): err is UsageError {
  return err instanceof Error && err.name === 'UsageError';
}
