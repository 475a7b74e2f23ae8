import assert from 'node:assert/strict';
import { WEBHOOKS, webhookConfigurations } from './configuration.js';

interface Entry {
  name: string;
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  clientConfig: { url?: string; caBundle?: string; service?: { path: string } };
  rules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
  matchConditions: { expression: string }[];
}

describe('webhooks: webhookConfigurations()', () => {
  const [mutating, validating] = webhookConfigurations({ target: { url: 'https://127.0.0.1:9443/' }, caBundle: 'PEM' });
  const entries = [...(mutating!.webhooks as Entry[]), ...(validating!.webhooks as Entry[])];

  it('registers every webhook the server serves, at /<name>', () => {
    assert.deepEqual(
      entries.map((e) => e.clientConfig.url),
      WEBHOOKS.map((w) => `https://127.0.0.1:9443/${w.name}`),
    );
    assert.equal(entries[0]!.clientConfig.caBundle, Buffer.from('PEM').toString('base64'));
  });

  it("matches only Trellis' own kinds on create and update, so an outage blocks nothing else", () => {
    for (const entry of entries) {
      for (const rule of entry.rules) {
        assert.deepEqual(rule.apiGroups, ['core.oam.dev']);
        assert.ok(
          !rule.resources.includes('*') && rule.resources.every((r) => !r.includes('/')),
          `${entry.name}: ${rule.resources}`,
        );
        assert.deepEqual(rule.operations, ['CREATE', 'UPDATE']);
      }
    }
  });

  it("fails closed with timeouts far below the API server's 60 s, and skips updates that leave spec alone", () => {
    for (const entry of entries) {
      assert.equal(entry.failurePolicy, 'Fail');
      assert.equal(entry.sideEffects, 'None');
      assert.ok(entry.timeoutSeconds <= 10, `${entry.name}: ${entry.timeoutSeconds}`);
      assert.match(entry.matchConditions[0]!.expression, /object\.spec != oldObject\.spec/);
    }
  });

  it('points at a Service path for the chart', () => {
    const [chart] = webhookConfigurations({
      target: { service: { name: 'trellis-webhook', namespace: 'trellis-system' } },
    });
    assert.deepEqual((chart!.webhooks as Entry[])[0]!.clientConfig, {
      service: { name: 'trellis-webhook', namespace: 'trellis-system', port: 443, path: '/mutate-components' },
    });
  });
});
