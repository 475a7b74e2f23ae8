/**
 * Runs the `trellis` CLI from the TypeScript sources, for tests that start it as a real process:
 * `node --import tsx test/support/trellis-main.ts <command> ...` (bin/trellis.js runs the compiled copy).
 */
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
