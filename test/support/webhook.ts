import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../controlplane/index.js';
import type { CueEngineOptions } from '../../cue/index.js';
import { KubeClient, type KubeObject } from '../../kube/index.js';
import {
  allHandlers,
  startWebhookDeps,
  ensureLocalCertificates,
  unregisterWebhooks,
  WebhookMetrics,
  WebhookServer,
} from '../../webhooks/index.js';
import { testCluster } from './cluster.js';
import { eventually } from './namespace.js';

/** The webhook configurations exactly as the chart ships them. */
export async function chartWebhookConfigurations(): Promise<KubeObject[]> {
  const file = path.join(packageRoot(), 'charts', 'trellis', 'files', 'webhooks', 'webhook-configurations.yaml');
  return parseAllDocuments(await readFile(file, 'utf8'))
    .map((d) => d.toJS() as KubeObject)
    .filter(Boolean);
}

/**
 * Registers the chart's webhook configurations with the test API server, pointed at `url` (loopback)
 * instead of the in-cluster Service, with `caBundle`; waits until the API server calls the webhook.
 */
export async function registerChartWebhooks(
  kube: KubeClient,
  url: string,
  caBundle: string,
  calledWhen?: RegExp,
): Promise<void> {
  for (const config of await chartWebhookConfigurations()) {
    const webhooks = (config.webhooks as { clientConfig: { service?: { path: string } } }[]).map((w) => ({
      ...w,
      clientConfig: {
        url: `${url}${w.clientConfig.service!.path}`,
        caBundle: Buffer.from(caBundle).toString('base64'),
      },
    }));
    await kube.apply({ ...config, webhooks });
  }
  await waitUntilWebhookCalled(kube, calledWhen);
}

/**
 * The API server picks up webhook configurations asynchronously: probe with a dry-run Component whose
 * type does not exist until the error matches `calledWhen` (by default: the webhook refused it).
 */
export async function waitUntilWebhookCalled(
  kube: KubeClient,
  calledWhen = /TRL_ADMISSION_DEFINITION_MISSING/,
): Promise<void> {
  const type = `probe-${randomBytes(4).toString('hex')}`;
  await eventually(
    async () => {
      try {
        await kube.create(
          {
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'Component',
            metadata: { name: type, namespace: 'default' },
            spec: { workload: { type } },
          },
          { dryRun: true },
        );
        return false;
      } catch (err) {
        return calledWhen.test(String(err));
      }
    },
    { what: 'the API server to call the webhook', timeoutMs: 30_000 },
  );
}

/**
 * After the configurations are deleted, the API server may call the webhook for a moment longer:
 * wait until a probe Component is admitted without it, so the next test file never meets a
 * webhook that is gone (failure policy Fail).
 */
export async function waitUntilWebhookGone(kube: KubeClient): Promise<void> {
  const type = `probe-${randomBytes(4).toString('hex')}`;
  await eventually(
    async () => {
      try {
        await kube.create(
          {
            apiVersion: 'core.oam.dev/v1alpha2',
            kind: 'Component',
            metadata: { name: type, namespace: 'default' },
            spec: { workload: { type } },
          },
          { dryRun: true },
        );
        return true;
      } catch {
        return false;
      }
    },
    { what: 'the API server to stop calling the webhook', timeoutMs: 30_000 },
  );
}

export interface TestWebhook {
  server: WebhookServer;
  url: string;
  caBundle: string;
  /** Unregisters, stops the server, removes the certificates. */
  stop(): Promise<void>;
}

/**
 * Starts the webhook server in this process on 127.0.0.1 with a fresh local CA, and registers the
 * chart's configurations for it (as `kube`, the admin). The webhook reads definitions as the chart's
 * webhook ServiceAccount unless another kubeconfig is given, so the chart's RBAC is what gets tested.
 * Always `stop()` it (in `after`): with failure policy Fail, a registered webhook that is gone
 * blocks every later test that writes OAM objects.
 */
export async function startTestWebhook(
  kube: KubeClient,
  options: { kubeconfig?: string; cue?: CueEngineOptions } = {},
): Promise<TestWebhook> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-webhook-'));
  const certs = await ensureLocalCertificates(dir);
  const reader = await KubeClient.connect({
    kubeconfig: options.kubeconfig ?? testCluster().webhookKubeconfig,
    userAgent: 'trellis-webhook',
  });
  // As `trellis webhook`: the server's metrics count its requests to the API server too.
  const metrics = new WebhookMetrics();
  reader.connection.observe(metrics.observeRequest);
  const deps = await startWebhookDeps(reader, options.cue ? { cue: options.cue } : {});
  const server = new WebhookServer({ handlers: allHandlers(deps), tls: certs, host: '127.0.0.1', port: 0, metrics });
  const stopAll = async () => {
    await server.stop();
    await deps.stop();
    reader.close();
  };
  await server.start();
  const url = `https://127.0.0.1:${server.port}`;
  try {
    await registerChartWebhooks(kube, url, certs.caBundle);
  } catch (err) {
    await unregisterWebhooks(kube).catch(() => {});
    await stopAll();
    throw err;
  }
  return {
    server,
    url,
    caBundle: certs.caBundle,
    async stop() {
      await unregisterWebhooks(kube);
      await waitUntilWebhookGone(kube);
      await stopAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
