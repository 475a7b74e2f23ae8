import { isTrellisError, messageOf } from '../lib/errors.js';
import { UsageError, type Command, type CommandIO } from './command.js';
import { syncCommand } from './sync.js';
import { versionCommand } from './version.js';
import { controllerCommand } from './controller.js';
import { webhookCommand } from './webhook.js';
import { revisionsCommand } from './revisions.js';
import { rollbackCommand } from './rollback.js';
import { statusCommand } from './status.js';
import { applyCommand } from './apply.js';
import { upCommand } from './up.js';
import { serverlessCommand } from './serverless.js';
import { renderCommand } from './render.js';
import { defCommand } from './def.js';

/** Every subcommand, in the order `trellis --help` lists them. */
export const commands: Command[] = [upCommand, versionCommand, controllerCommand, webhookCommand, applyCommand, statusCommand, revisionsCommand, rollbackCommand, renderCommand, defCommand, syncCommand, serverlessCommand];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'trellis — an Open Application Model control plane for Kubernetes',
    '',
    'Usage: trellis <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `trellis <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 wrong usage. Errors are printed
 * as one readable message, never a stack trace (set TRELLIS_DEBUG=1 to see stacks).
 */
export async function main(argv: string[], io: CommandIO = { out: process.stdout, err: process.stderr, env: process.env, cwd: process.cwd() }): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out.write(help());
    return name ? 0 : 2;
  }
  if (name === '--version') return versionCommand.run([], io);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err.write(`error: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`error: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.err.write(`error: ${isTrellisError(err) ? err.message : messageOf(err)}\n`);
    if (io.env.TRELLIS_DEBUG) io.err.write(`${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
