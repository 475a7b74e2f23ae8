#!/usr/bin/env node
// The `trellis` command. The TypeScript sources are compiled into dist/ by `npm ci` (the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
