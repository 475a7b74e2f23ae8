/** What a `trellis` subcommand provides. Commands write through `io`, never to process.stdout directly. */
export interface Command {
  name: string;
  /** One line for `trellis --help`. */
  summary: string;
  /** Full usage text for `trellis <name> --help`. */
  usage: string;
  run(args: string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
