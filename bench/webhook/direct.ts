import https from 'node:https';
import type { AdmissionReview } from '../../webhooks/index.js';
import type { KubeObject } from '../../kube/index.js';
import { applyPatch } from '../../webhooks/json-patch.js';
import { typicalAppConfig } from './typical.js';
import { summarize, timeEach, type Summary } from './stats.js';

function review(uid: string, object: KubeObject): AdmissionReview {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'core.oam.dev', version: 'v1alpha2', kind: 'ApplicationConfiguration' },
      resource: { group: 'core.oam.dev', version: 'v1alpha2', resource: 'applicationconfigurations' },
      name: 'app',
      namespace: 'bench-webhook',
      operation: 'CREATE',
      object,
    },
  };
}

/**
 * Posts the reviews the API server would send (mutate, then validate the mutated object) to the
 * webhook server over HTTPS with keep-alive, like the API server does.
 */
export async function directReview(options: {
  port: number;
  ca: string;
  count: number;
  warmup: number;
}): Promise<{ mutate: Summary; validate: Summary; both: Summary; edited: Summary }> {
  const agent = new https.Agent({ keepAlive: true, ca: options.ca, maxSockets: 1 });
  const post = (path: string, body: AdmissionReview) =>
    new Promise<AdmissionReview>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: options.port,
          path,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (text += c))
            .on('end', () => resolve(JSON.parse(text) as AdmissionReview));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  const original = typicalAppConfig('app');
  const mutated = await post('/mutate-applicationconfigurations', review('m', original));
  if (!mutated.response?.allowed)
    throw new Error(`the typical AppConfig was denied: ${mutated.response?.status?.message}`);
  const ops = JSON.parse(Buffer.from(mutated.response.patch ?? 'W10=', 'base64').toString());
  const expanded = applyPatch(original, ops);
  const mutate = () => post('/mutate-applicationconfigurations', review('m', original));
  const validate = () => post('/validate-applicationconfigurations', review('v', expanded));
  await timeEach(options.warmup, async () => {
    await mutate();
    await validate();
  });
  const result = {
    mutate: summarize(await timeEach(options.count, mutate)),
    validate: summarize(await timeEach(options.count, validate)),
    both: summarize(
      await timeEach(options.count, async () => {
        await mutate();
        await validate();
      }),
    ),
    // A property changed each time: what the validating webhook checks was never rendered.
    edited: summarize(
      await timeEach(options.count, async (i) => {
        const object = typicalAppConfig('app', 1000 + i);
        const answer = await post('/mutate-applicationconfigurations', review('m', object));
        const patched = applyPatch(
          object,
          JSON.parse(Buffer.from(answer.response?.patch ?? 'W10=', 'base64').toString()),
        );
        const verdict = await post('/validate-applicationconfigurations', review('v', patched));
        if (!verdict.response?.allowed)
          throw new Error(`an edited typical AppConfig was denied: ${verdict.response?.status?.message}`);
      }),
    ),
  };
  agent.destroy();
  return result;
}
