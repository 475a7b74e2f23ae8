import type { KubeClient } from '../kube/index.js';
import {
  MUTATING_CONFIGURATION,
  VALIDATING_CONFIGURATION,
  webhookConfigurations,
  type ConfigurationOptions,
} from './configuration.js';

/** Applies both webhook configurations (server-side apply), e.g. pointing at `https://127.0.0.1:<port>`. */
export async function registerWebhooks(kube: KubeClient, options: ConfigurationOptions): Promise<void> {
  for (const config of webhookConfigurations(options)) await kube.apply(config);
}

/** Deletes both webhook configurations; the API server stops calling the webhook. */
export async function unregisterWebhooks(kube: KubeClient): Promise<void> {
  await kube.delete({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    name: MUTATING_CONFIGURATION,
  });
  await kube.delete({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    name: VALIDATING_CONFIGURATION,
  });
}
