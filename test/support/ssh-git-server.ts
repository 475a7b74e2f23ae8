import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';

const exec = promisify(execFile);

/** A key pair made by the real `ssh-keygen`. */
export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export async function sshKeygen(comment = 'trellis-test'): Promise<KeyPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-keygen-'));
  try {
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path.join(dir, 'key')]);
    return {
      privateKey: await readFile(path.join(dir, 'key'), 'utf8'),
      publicKey: (await readFile(path.join(dir, 'key.pub'), 'utf8')).trim(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Git over a real SSH transport for tests: an SSH server (the `ssh2` package) on 127.0.0.1 that
 * accepts one client key and runs the real `git-upload-pack` for `ssh://git@127.0.0.1:<port>/<path>`.
 * The client side is the machine's OpenSSH, started by git.
 *
 * @example
 *   const server = await SshGitServer.start({ projectRoot: repo.root, clientKey: client.publicKey })
 *   fetchRepository({ url: server.urlFor('apps.git'), credentials: { identity: client.privateKey, knownHosts: server.knownHosts } })
 */
export class SshGitServer {
  /** Commands clients ran. */
  readonly commands: string[] = [];
  private constructor(
    private readonly server: ssh2.Server,
    readonly hostKey: KeyPair,
    readonly port: number,
  ) {}

  static async start(options: { projectRoot: string; clientKey: string }): Promise<SshGitServer> {
    const hostKey = await sshKeygen('host');
    const allowed = ssh2.utils.parseKey(options.clientKey);
    if (allowed instanceof Error) throw allowed;
    const commands: string[] = [];
    const server = new ssh2.Server({ hostKeys: [hostKey.privateKey] }, (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH()))
          return ctx.reject(['publickey']);
        if (ctx.signature && ctx.blob && !allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo))
          return ctx.reject(['publickey']);
        ctx.accept();
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          const env: Record<string, string> = {};
          session.on('env', (acceptEnv, _reject, info) => {
            env[info.key] = info.val;
            acceptEnv?.();
          });
          session.on('exec', (acceptExec, reject, info) => {
            commands.push(info.command);
            const m = /^(git-upload-pack|git upload-pack) '([^']+)'$/.exec(info.command);
            const repo = m ? path.join(options.projectRoot, path.normalize(`/${m[2]}`)) : undefined;
            if (!repo) return reject?.();
            const stream = acceptExec();
            const child = spawn('git-upload-pack', [repo], {
              env: {
                PATH: process.env.PATH,
                GIT_CONFIG_NOSYSTEM: '1',
                GIT_CONFIG_GLOBAL: '/dev/null',
                ...(env.GIT_PROTOCOL ? { GIT_PROTOCOL: env.GIT_PROTOCOL } : {}),
              },
            });
            stream.pipe(child.stdin);
            child.stdout.pipe(stream, { end: false });
            child.stderr.pipe(stream.stderr);
            child.on('close', (code) => {
              stream.exit(code ?? 1);
              stream.end();
            });
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const instance = new SshGitServer(server, hostKey, (server.address() as AddressInfo).port);
    (instance as { commands: string[] }).commands = commands;
    return instance;
  }

  /** A known_hosts line for this server's host key. */
  get knownHosts(): string {
    return `[127.0.0.1]:${this.port} ${this.hostKey.publicKey.split(' ').slice(0, 2).join(' ')}\n`;
  }

  urlFor(name: string): string {
    return `ssh://git@127.0.0.1:${this.port}/${name}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
