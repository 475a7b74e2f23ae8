import { messageOf } from '../lib/errors.js';
import { parse } from './args.js';
import { buildInfo } from './build-info.js';
import type { Command } from './command.js';
import { UsageError } from './command.js';

export const versionCommand: Command = {
  usage: `trellis version — print the Trellis version and the Kubernetes version of the cluster it talks to

Usage: trellis version [options]

Prints the client's version (and the Kubernetes version its local control plane runs), then the API
server's version read from the kubeconfig's cluster, like \`kubectl version\`. When the server cannot
be reached the client's version is still printed, the reason goes to standard error and the exit
code stays 0.

Options:
  --kubeconfig <file>   kubeconfig to use (default: KUBECONFIG, ~/.kube/config)
  --context <name>      kubeconfig context (default: its current one)
  --client              print the client's version only (no request to the server)`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      client: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}": version takes options only`);
    const build = buildInfo();
    io.out.write(
      `trellis ${build.version} (local control plane: Kubernetes ${build.kubernetesVersion}, Node.js ${process.version})\n`,
    );
    if (values.client) return 0;
    try {
      // Imported here so `trellis version --client` stays an offline command that never loads the client.
      const [{ connect }, { serverVersion }] = await Promise.all([
        import('./kube-args.js'),
        import('../kube/index.js'),
      ]);
      const { kube } = await connect(values, io);
      try {
        const server = await serverVersion(kube);
        io.out.write(`server: Kubernetes ${server.gitVersion} at ${kube.connection.server.origin}\n`);
      } finally {
        kube.close();
      }
    } catch (err) {
      io.err.write(`server: unknown: ${messageOf(err)}\n`);
    }
    return 0;
  },
};
