import path from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import rule from '../../scripts/eslint-import-boundaries.js';
import { packageRoot } from '../../controlplane/index.js';

const root = packageRoot();
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser as never, ecmaVersion: 2022, sourceType: 'module' } });
const at = (file: string) => path.join(root, file);

describe('lint rule: import boundaries (DESIGN.md §2)', () => {
  tester.run('import-boundaries', rule, {
    valid: [
      { code: "import { x } from '../apis/generated/core.oam.dev-v1alpha2.js';", filename: at('render/render.ts') },
      { code: "import type { KubeObject } from '../kube/types.js';", filename: at('render/render.ts') },
      { code: "import { KubeClient } from '../kube/client.js';", filename: at('apply/apply.ts') },
      { code: "import * as k8s from '@kubernetes/client-node';", filename: at('kube/connection.ts') },
      { code: "import { anything } from '../controllers/x.js';", filename: at('cli/main.ts') },
      { code: "import { CueEngine } from '../cue/index.js';", filename: at('render/render.ts') },
      { code: "import { TrellisError } from '../lib/errors.js';", filename: at('cue/engine.ts') },
    ],
    invalid: [
      { code: "import { KubeClient } from '../kube/client.js';", filename: at('render/render.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { apply } from '../apply/apply.js';", filename: at('bind/bind.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { reconcile } from '../controllers/appconfig/reconcile.js';", filename: at('webhooks/server.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { x } from '../definitions/x.js';", filename: at('apis/index.ts'), errors: [{ messageId: 'layer' }] },
      // cue/ runs the source it is given: no rendering, no definitions, no API types, no cluster.
      { code: "import { renderComponents } from '../render/render.js';", filename: at('cue/engine.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { x } from '../definitions/x.js';", filename: at('cue/engine.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { x } from '../apis/generated/core.oam.dev-v1alpha2.js';", filename: at('cue/engine.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import type { KubeObject } from '../kube/types.js';", filename: at('cue/engine.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import { CueEngine } from '../cue/index.js';", filename: at('definitions/load.ts'), errors: [{ messageId: 'layer' }] },
      { code: "import * as k8s from '@kubernetes/client-node';", filename: at('controllers/x.ts'), errors: [{ messageId: 'client' }] },
      { code: "import { TrellisError } from '../lib/errors.js';", filename: at('kube/client.ts'), errors: [{ messageId: 'layer' }] },
    ],
  });
});
