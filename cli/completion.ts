import type { Command, CommandIO } from './command.js';
import { UsageError } from './command.js';
import { COMMANDS, findCommand } from './commands.js';

const usage = `trellis completion — print a shell completion script (bash, zsh or fish)

Usage: trellis completion bash|zsh|fish

Completes commands, their options, -o formats and what a command's arguments can be (e.g. the
built-in types of \`trellis def show\`); file names where a command reads files. The script asks
\`trellis __complete <words>\` for the candidates, so it stays right as commands change.

  bash:  source <(trellis completion bash)          # or save it in /etc/bash_completion.d/trellis
  zsh:   source <(trellis completion zsh)           # or save it as _trellis on your $fpath
  fish:  trellis completion fish | source           # or ~/.config/fish/completions/trellis.fish`;

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

const SCRIPTS: Record<(typeof SHELLS)[number], string> = {
  bash: `# bash completion for trellis (trellis completion bash)
_trellis() {
  local IFS=$'\\n'
  COMPREPLY=($(trellis __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _trellis trellis
`,
  zsh: `#compdef trellis
# zsh completion for trellis (trellis completion zsh)
_trellis() {
  local -a candidates
  candidates=("\${(@f)$(trellis __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ -n "\${candidates[1]}" ]]; then compadd -a candidates; else _files; fi
}
compdef _trellis trellis
`,
  fish: `# fish completion for trellis (trellis completion fish)
function __trellis_complete
  set -l words (commandline -opc)[2..-1] (commandline -ct)
  set -l candidates (trellis __complete $words 2>/dev/null)
  if test (count $candidates) -gt 0
    printf '%s\\n' $candidates
  else
    __fish_complete_path (commandline -ct)
  end
end
complete -c trellis -f -a '(__trellis_complete)'
`,
};

export const completionCommand: Command = {
  usage,
  async run(args, io) {
    const [shell, ...rest] = args;
    if (!shell || rest.length) throw new UsageError('name one shell: bash, zsh or fish');
    if (!(SHELLS as readonly string[]).includes(shell))
      throw new UsageError(`no completion for "${shell}": bash, zsh or fish`);
    io.out.write(SCRIPTS[shell as (typeof SHELLS)[number]]);
    return 0;
  },
  async complete(args) {
    return args.length <= 1 ? [...SHELLS] : [];
  },
};

/** The options a command's usage text lists (`-n`, `--namespace`), and which of them take a value. */
export function optionsOf(usageText: string): { names: string[]; takesValue: Set<string> } {
  const names: string[] = [];
  const takesValue = new Set<string>();
  for (const m of usageText.matchAll(/^ {2}(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)( <[^>]+>)?/gm)) {
    names.push(m[2]!);
    if (m[1]) names.push(m[1]);
    if (m[3]) {
      takesValue.add(m[2]!);
      if (m[1]) takesValue.add(m[1]);
    }
  }
  return { names, takesValue };
}

/** The `-o` formats a usage line lists (`-o, --output <format>  yaml, json, wide (default: ...)`). */
function outputFormats(usageText: string): string[] {
  const line = /^ {2}-o, --output <format> +(.*)$/m.exec(usageText)?.[1] ?? '';
  return line
    .replace(/\(.*$/, '')
    .split(/[,\s]+/)
    .filter((w) => /^[a-z]+$/.test(w));
}

/**
 * Candidates for the last of `words` (what follows `trellis`, the word being completed last,
 * possibly empty), one per line. Empty output lets the shell complete file names.
 */
export async function completeWords(words: string[], io: CommandIO): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const starts = (c: string) => c.startsWith(current);
  if (words.length <= 1) return [...COMMANDS.map((c) => c.name), 'help'].filter(starts);
  const spec = findCommand(words[0]!);
  if (!spec) return [];
  const command = await spec.load();
  const { names, takesValue } = optionsOf(command.usage);
  const previous = words.at(-2)!;
  if (previous === '-o' || previous === '--output') return outputFormats(command.usage).filter(starts);
  if (takesValue.has(previous)) return []; // a value: files, names, numbers — the shell's default
  if (current.startsWith('-')) return [...names, '--help'].filter(starts);
  // Positional arguments so far, without options and their values.
  const positionals: string[] = [];
  for (let i = 1; i < words.length - 1; i++) {
    const w = words[i]!;
    if (w.startsWith('-')) {
      if (takesValue.has(w)) i++;
    } else positionals.push(w);
  }
  const candidates = command.complete ? await command.complete([...positionals, current], io).catch(() => []) : [];
  return candidates.filter(starts);
}

/** `trellis __complete <words...>`: what the completion scripts call. Never fails loudly. */
export async function runComplete(words: string[], io: CommandIO): Promise<number> {
  const candidates = await completeWords(words.length ? words : [''], io).catch(() => []);
  if (candidates.length) io.out.write(`${candidates.join('\n')}\n`);
  return 0;
}
