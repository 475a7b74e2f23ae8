import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/** The part of a pod's container the local runner reads. */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort?: number }[];
  readinessProbe?: { httpGet?: { path?: string; port?: number | string } };
}

/** What the runner starts for one container: its argv, folder and environment. */
export interface ContainerRun {
  container: Container;
  command: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface RunContext {
  /** Relative `workingDir`s start here. */
  root: string;
  /** Every container's environment starts with this. */
  env: Record<string, string>;
  /** An image's entrypoint, for a container without `command` (its `args` follow). */
  entrypoints: Record<string, string[]>;
}

/**
 * How the runner runs `container`, as a container runtime would: `command` (else the image's
 * entrypoint, when the runner knows it) followed by `args`, in `workingDir`, with its `env` — or
 * why it cannot (a kubelet's waiting reason and a message saying what to change).
 */
export function containerRun(
  container: Container,
  ctx: RunContext,
): { run: ContainerRun } | { waiting: { reason: string; message: string } } {
  const entry = container.command ?? (container.image ? ctx.entrypoints[container.image] : undefined) ?? [];
  const command = [...entry, ...(container.args ?? [])];
  const cwd = path.resolve(ctx.root, container.workingDir ?? '.');
  const unsupported = container.env?.find((e) => e.valueFrom !== undefined);
  if (command.length === 0) {
    return {
      waiting: {
        reason: 'NoHandlerCommand',
        message:
          `the local process runner runs a command, but container "${container.name}" has none` +
          (container.image && !container.command ? ` (and no entrypoint is known for image ${container.image})` : '') +
          ": set the Function's handler",
      },
    };
  }
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    return {
      waiting: {
        reason: 'WorkingDirNotFound',
        message: `the handler's folder ${cwd} does not exist (relative folders are resolved against ${ctx.root})`,
      },
    };
  }
  if (unsupported) {
    return {
      waiting: {
        reason: 'UnsupportedEnv',
        message: `environment variable ${unsupported.name} uses valueFrom, which the local process runner does not resolve`,
      },
    };
  }
  const env: Record<string, string> = { ...ctx.env };
  for (const e of container.env ?? []) env[e.name] = e.value ?? '';
  return { run: { container, command, cwd, env } };
}

/** The container's readiness probe: HTTP path (TCP when absent) and port (a number or one of its named ports). */
export function readinessOf(container: Container): { path?: string; port?: number } {
  const get = container.readinessProbe?.httpGet;
  const named = get?.port;
  const port =
    typeof named === 'number' ? named : container.ports?.find((p) => p.name === named && named)?.containerPort;
  return { ...(get?.path ? { path: get.path } : {}), ...(port ? { port } : {}) };
}
