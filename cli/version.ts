import { buildInfo } from './build-info.js';
import type { Command } from './command.js';

export const versionCommand: Command = {
  usage: `trellis version — print the Trellis version and the Kubernetes version of the local control plane

Usage: trellis version`,
  async run(_args, io) {
    const build = buildInfo();
    io.out.write(
      `trellis ${build.version} (local control plane: Kubernetes ${build.kubernetesVersion}, Node.js ${process.version})\n`,
    );
    return 0;
  },
};
