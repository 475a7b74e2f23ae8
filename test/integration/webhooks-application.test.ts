import assert from 'node:assert/strict';
import path from 'node:path';
import { stringify } from 'yaml';
import { KUBEVELA, kubevelaDefinitions } from '../../application/testdata/kubevela-cases.js';
import { testCluster } from '../support/cluster.js';
import { kubectl } from '../support/kubectl.js';
import { useNamespace } from '../support/namespace.js';
import { startTestWebhook, type TestWebhook } from '../support/webhook.js';

const WEBHOOK = 'validate-applications.core.oam.dev';

/**
 * Issue 16: the admission webhook validates KubeVela Applications as it does AppConfigs — kubectl
 * apply through the real API server, the webhook reading as the chart's webhook ServiceAccount.
 */
describe('webhooks: KubeVela Applications (core.oam.dev/v1beta1)', function () {
  this.timeout(180_000);
  let webhook: TestWebhook;
  const ns = useNamespace('whapp');
  before(async () => {
    const applied = await kubectl(['apply', '-f', path.join(KUBEVELA, 'definitions')]);
    assert.equal(applied.code, 0, applied.stderr);
    webhook = await startTestWebhook(testCluster().kube);
  });
  after(async () => {
    await webhook?.stop();
    const names = kubevelaDefinitions().map(
      (d) =>
        `${d.kind === 'ComponentDefinition' ? 'componentdefinitions' : 'traitdefinitions'}.core.oam.dev/${d.metadata.name}`,
    );
    await kubectl(['delete', '--ignore-not-found', ...names]);
  });

  const application = (spec: Record<string, unknown>) => ({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: 'shop' },
    spec,
  });
  const web = (properties: object, traits: object[] = []) => ({
    name: 'web',
    type: 'webservice',
    properties: { image: 'nginx:1.27', ...properties },
    traits,
  });
  const apply = (doc: object) => kubectl(['apply', '-n', ns.name, '-f', '-'], { input: stringify(doc) });
  /** kubectl apply fails with a 422 from this webhook naming the Application; nothing is stored. */
  async function denied(doc: object, message: RegExp): Promise<void> {
    const result = await apply(doc);
    assert.equal(result.code, 1, `kubectl apply should fail, printed: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /^The request is invalid: /, `a 422 Invalid, not a webhook failure: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`admission webhook "${WEBHOOK.replace(/\./g, '\\.')}" denied the request`));
    assert.match(result.stderr, new RegExp(`Application/${ns.name}/shop`));
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    const stored = await testCluster().kube.getOrNull({
      apiVersion: 'core.oam.dev/v1beta1',
      kind: 'Application',
      name: 'shop',
      namespace: ns.name,
    });
    assert.equal(stored, undefined, 'nothing stored');
  }

  it('admits a valid Application, and an edit of it', async () => {
    const first = await apply(
      application({ components: [web({}, [{ type: 'scaler', properties: { replicas: 2 } }])] }),
    );
    assert.equal(first.code, 0, first.stderr);
    const edit = await apply(application({ components: [web({}, [{ type: 'scaler', properties: { replicas: 5 } }])] }));
    assert.equal(edit.code, 0, edit.stderr);
  });

  it('denies unknown component and trait types, all at once, with a did-you-mean', async () => {
    await denied(
      application({
        components: [{ ...web({}, [{ type: 'scaller', properties: { replicas: 2 } }]), type: 'webservise' }],
      }),
      new RegExp(
        [
          `2 problems: \\(1\\) \\[TRL_ADMISSION_DEFINITION_MISSING\\] Application/${ns.name}/shop: spec\\.components\\[0\\]\\.type: `,
          `ComponentDefinition "webservise" does not exist \\(did you mean "webservice"\\?\\).*`,
          `spec\\.components\\[0\\]\\.traits\\[0\\]\\.type: TraitDefinition "scaller" does not exist \\(did you mean "scaler"\\?\\)`,
        ].join(''),
      ),
    );
  });

  it("denies bad properties naming the component's field", async () => {
    await denied(
      application({ components: [web({ image: 42 })] }),
      /\[TRL_RENDER_PARAMETER\] Application\/.*\/shop: spec\.components\[0\]\.properties\.image: .*expected string, got 42/,
    );
    await denied(
      application({ components: [web({}, [{ type: 'scaler', properties: { replicas: 'three' } }])] }),
      /\[TRL_RENDER_PARAMETER\] Application\/.*\/shop: spec\.components\[0\]\.traits\[0\]\.properties\.replicas: .*expected int, got "three"/,
    );
  });

  it('denies policies and workflow steps Trellis does not run, with their codes', async () => {
    await denied(
      application({
        components: [web({})],
        policies: [{ name: 'everywhere', type: 'topology', properties: { clusterLabelSelector: { region: 'eu' } } }],
      }),
      /\[TRL_APP_POLICY\] Application\/.*\/shop: spec\.policies\[0\]/,
    );
    await denied(
      application({
        components: [web({})],
        workflow: { steps: [{ name: 'tell', type: 'notification', properties: {} }] },
      }),
      /\[TRL_APP_WORKFLOW_STEP\] Application\/.*\/shop: spec\.workflow\.steps\[0\]/,
    );
  });
});
