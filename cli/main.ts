import { isTrellisError, messageOf } from '../lib/errors.js';
import { didYouMean } from '../lib/suggest.js';
import { isUsageError, type CommandGroup, type CommandIO } from './command.js';
import { COMMANDS, findCommand } from './commands.js';

const GROUPS: CommandGroup[] = ['Applications', 'Definitions', 'Functions', 'GitOps', 'Run Trellis', 'Other'];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const sections = GROUPS.map((group) => {
    const members = COMMANDS.filter((c) => c.group === group);
    return members.length ? [`${group}:`, ...members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), ''] : [];
  });
  return [
    'trellis — an Open Application Model control plane for Kubernetes',
    '',
    'Usage: trellis <command> [options]',
    '',
    ...sections.flat(),
    'Run `trellis <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 wrong usage. Errors are printed
 * as one readable message, never a stack trace (set TRELLIS_DEBUG=1 to see stacks). Only the
 * module of the command that runs is imported.
 */
export async function main(argv: string[], io: CommandIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err).write(help());
    return name ? 0 : 2;
  }
  if (name === '__complete') return (await import('./completion.js')).runComplete(rest, io);
  const spec = findCommand(name === '--version' ? 'version' : name);
  if (!spec) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`;
    io.err.write(
      `error: ${what}${didYouMean(
        name,
        COMMANDS.map((c) => c.name),
      )}\n\nRun \`trellis --help\` for the list of commands.\n`,
    );
    return 2;
  }
  const command = await spec.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (isUsageError(err)) {
      io.err.write(`error: ${err.message}\n\nRun \`trellis ${spec.name} --help\` for its usage.\n`);
      return 2;
    }
    // A connection failure wrapped by the command (`cannot apply X: ...`) is said as itself: it is what to act on.
    const shown = connectionFailure(err) ?? err;
    io.err.write(`error: ${isTrellisError(shown) ? shown.message : messageOf(shown)}\n`);
    if (io.env.TRELLIS_DEBUG) io.err.write(`${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

/** The first {@link KubeConnectionError} in `err`'s cause chain. */
function connectionFailure(err: unknown): Error | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e.name === 'KubeConnectionError') return e;
  return undefined;
}

/** The process's own streams, environment and folder: what `bin/trellis.js` runs with. */
export function processIO(): CommandIO {
  return {
    out: process.stdout,
    err: process.stderr,
    in: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    exit: (code) => process.exit(code),
  };
}
