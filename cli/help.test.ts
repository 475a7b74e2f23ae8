import assert from 'node:assert/strict';
import { COMMANDS } from './commands.js';

/** An option line (`  -n, --namespace <ns>  text`), or a continuation line indented further. */
const OPTION_LINE = /^ {2}(-[A-Za-z], )?--[a-z][a-z0-9-]*( <[^>]+>)?( {2,}\S.*)?$/;
const CONTINUATION = /^ {4,}\S/;

describe('cli: one help style for every command', () => {
  for (const spec of COMMANDS) {
    it(`trellis ${spec.name} --help: title, usage line, options, lines ≤ 110 characters`, async () => {
      const lines = (await spec.load()).usage.split('\n');
      assert.match(lines[0]!, new RegExp(`^trellis ${spec.name} — \\S`), 'first line: trellis <name> — what it does');
      assert.equal(lines[1], '', 'a blank line after the title');
      assert.match(lines[2]!, new RegExp(`^Usage: trellis ${spec.name}\\b`));
      for (const line of lines) assert.ok(line.length <= 110, `line over 110 characters: ${line}`);
      const at = lines.indexOf('Options:');
      if (at < 0) return;
      for (const line of lines.slice(at + 1)) {
        if (line === '') break;
        assert.ok(OPTION_LINE.test(line) || CONTINUATION.test(line), `not an option line: "${line}"`);
      }
    });
  }

  it('registers each command name once', () => {
    assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
  });
});
