import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../controlplane/paths.js';
import { KUBERNETES_VERSION } from '../controlplane/versions.js';
import type { Command } from './command.js';

export const versionCommand: Command = {
  usage: `trellis version — print the Trellis version and the Kubernetes version of the local control plane

Usage: trellis version`,
  async run(_args, io) {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    io.out.write(`trellis ${pkg.version} (local control plane: Kubernetes ${KUBERNETES_VERSION}, Node.js ${process.version})\n`);
    return 0;
  },
};
