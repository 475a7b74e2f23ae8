/**
 * The CLI's kubectl conventions through the built binary, as a person types them: `-o
 * yaml|json|wide|name`, `-f -`, `-n`/`-A`, shell completion that loads in bash, zsh and fish, and
 * the commands peers have (`trellis ls`, `trellis def list|show`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { COMMANDS } from '../../cli/commands.js';
import type { KubeObject } from '../../kube/index.js';
import { runTrellis, TRELLIS_BIN } from '../support/cli.js';
import { testCluster } from '../support/cluster.js';
import { useNamespace } from '../support/namespace.js';

const APP = `apiVersion: core.oam.dev/v1alpha2
kind: Component
metadata: { name: web }
spec:
  workload: { type: webservice, properties: { image: "nginx:1.27" } }
---
apiVersion: core.oam.dev/v1alpha2
kind: ApplicationConfiguration
metadata: { name: shop }
spec:
  components:
    - componentName: web
      traits: [{ trait: { name: scaler, properties: { replicas: 2 } } }]
`;

/**
 * The commands a person completing `trellis re` expects, from the command registry itself, so a new
 * command starting with "re" changes the expectation instead of breaking the test.
 */
const RE_COMMANDS = COMMANDS.map((c) => c.name)
  .filter((name) => name.startsWith('re'))
  .sort();

/** Runs `script` in a real shell with `trellis` (the built CLI) first on PATH; its output lines. */
function inShell(shell: string, args: string[], script: string): string[] {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'trellis-completion-'));
  try {
    symlinkSync(TRELLIS_BIN, path.join(bin, 'trellis'));
    const r = spawnSync(shell, [...args, script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: bin },
    });
    assert.equal(r.error, undefined, `${shell} runs (.ci/run installs it)`);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('trellis CLI conventions (the built CLI, as a process)', () => {
  describe('offline', () => {
    it('render -f - reads standard input; -o json is one List that parses, -o name is kind.group/name', async () => {
      const json = await runTrellis(['render', '-f', '-', '-o', 'json'], { input: APP });
      assert.equal(json.code, 0, json.stderr);
      const list = JSON.parse(json.stdout) as { kind: string; items: KubeObject[] };
      assert.equal(list.kind, 'List');
      assert.deepEqual(
        list.items.map((o) => `${o.kind}/${o.metadata.name}`),
        ['Deployment/web', 'Service/web'],
      );
      assert.equal(
        (list.items[0] as KubeObject & { spec: { replicas: number } }).spec.replicas,
        2,
        'the scaler trait applied',
      );
      const names = await runTrellis(['render', '-f', '-', '-o', 'name'], { input: APP });
      assert.equal(names.stdout, 'deployment.apps/web\nservice/web\n');
      const yaml = await runTrellis(['render', '-f', '-'], { input: APP });
      assert.deepEqual(
        parseAllDocuments(yaml.stdout).map((d) => (d.toJS() as KubeObject).kind),
        ['Deployment', 'Service'],
      );
    });

    it('refuses an output format it does not print, and -f - with nothing parseable, in its own words', async () => {
      const wide = await runTrellis(['render', '-f', '-', '-o', 'wdie'], { input: APP });
      assert.equal(wide.code, 2);
      assert.match(wide.stderr, /^error: --output must be one of yaml, json, name, got "wdie"/);
      const bad = await runTrellis(['render', '-f', '-'], { input: 'kind: [' });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^error: \[TRL_FILE_INVALID\] <stdin>: document 1 is not valid YAML/);
      assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    });

    it('def list names every built-in type; def show scaler lists replicas with type, default and description', async () => {
      const list = await runTrellis(['def', 'list']);
      assert.equal(list.code, 0, list.stderr);
      const rows = list.stdout.trim().split('\n');
      assert.match(rows[0]!, /^NAME\s+KIND\s+APPLIES TO \/ KIND\s+DESCRIPTION$/);
      for (const name of ['webservice', 'worker', 'task', 'scaler', 'autoscaler', 'ingress', 'function', 'rollout']) {
        assert.ok(
          rows.some((r) => r.startsWith(`${name} `)),
          `${name} listed`,
        );
      }
      const show = await runTrellis(['def', 'show', 'scaler']);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /^TraitDefinition scaler\n/);
      assert.match(show.stdout, /^replicas\s+integer\s+no\s+1\s+Number of replicas\.$/m);
      const nested = await runTrellis(['def', 'show', 'webservice', '-o', 'json']);
      assert.equal((JSON.parse(nested.stdout) as KubeObject).metadata.name, 'webservice');
      const typo = await runTrellis(['def', 'show', 'scalr']);
      assert.equal(typo.code, 1);
      assert.equal(
        typo.stderr,
        'error: [TRL_DEF_NOT_FOUND] scalr: no such workload or trait type (did you mean "scaler"?) (trellis def list lists them)\n',
      );
    });

    it('completion bash loads in bash and completes commands, options, -o formats and def show types', () => {
      const bin = mkdtempSync(path.join(os.tmpdir(), 'trellis-completion-'));
      try {
        symlinkSync(TRELLIS_BIN, path.join(bin, 'trellis'));
        const complete = (words: string[]) => {
          const script = `source <(trellis completion bash) || exit 9
complete -p trellis || exit 8
COMP_WORDS=(trellis ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}
_trellis; printf '%s\\n' "\${COMPREPLY[@]}"`;
          const r = spawnSync('bash', ['-c', script], {
            encoding: 'utf8',
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
          });
          assert.equal(r.status, 0, r.stderr);
          return r.stdout.trim().split('\n').slice(1);
        };
        assert.ok(RE_COMMANDS.includes('render') && RE_COMMANDS.includes('revisions'), 'the registry lists them');
        assert.deepEqual([...complete(['re'])].sort(), RE_COMMANDS);
        assert.ok(complete(['render', '--']).includes('--filename'));
        assert.deepEqual(complete(['render', '-o', '']), ['yaml', 'json', 'name']);
        assert.deepEqual(complete(['def', 'show', 'sca']), ['scale-to-zero', 'scaler']);
        assert.deepEqual(complete(['completion', '']), ['bash', 'zsh', 'fish']);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });

    it('completion zsh loads into compsys (compinit) and its function completes through `trellis __complete`', () => {
      // compadd works only inside a completion widget (ZLE), which needs a terminal: the test gives zsh
      // one that prints what it is handed; everything else (compinit, compdef, the word handling, the
      // call to `trellis __complete`, the fallback to _files) is the real shell's.
      const complete = (words: string[]) =>
        inShell(
          'zsh',
          ['-f', '-c'],
          `autoload -Uz compinit && compinit -u -D || exit 7
source <(trellis completion zsh) || exit 9
[[ $_comps[trellis] == _trellis ]] || exit 8
compadd() { [[ $1 == -a ]] && print -rl -- "\${(@P)2}" }
_files() { print -r -- '<files>' }
words=(trellis ${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length + 1}; _trellis`,
        );
      assert.deepEqual([...complete(['re'])].sort(), RE_COMMANDS);
      assert.deepEqual(complete(['def', 'show', 'sca']), ['scale-to-zero', 'scaler']);
      assert.deepEqual(complete(['render', '-o', '']), ['yaml', 'json', 'name']);
      assert.deepEqual(complete(['render', '-f', '']), ['<files>'], 'a file argument falls back to _files');
      assert.deepEqual(complete(['fn', '']), ['list', 'describe', 'invoke']);
    });

    it("completion fish loads and completes subcommands, types and -o formats with fish's own completer", () => {
      const complete = (line: string) =>
        inShell(
          'fish',
          ['--no-config', '-c'],
          `trellis completion fish | source; or exit 9
complete -C${JSON.stringify(line)}`,
        );
      assert.deepEqual([...complete('trellis re')].sort(), RE_COMMANDS);
      assert.deepEqual(complete('trellis def show sca').sort(), ['scale-to-zero', 'scaler']);
      assert.deepEqual(complete('trellis render -o ').sort(), ['json', 'name', 'yaml']);
      assert.deepEqual(complete('trellis fn ').sort(), ['describe', 'invoke', 'list']);
    });
  });

  describe('against the cluster', () => {
    const a = useNamespace('ls-a');
    const b = useNamespace('ls-b');
    const kubeconfig = () => testCluster().controlPlane.kubeconfigPath;
    const appConfig = (namespace: string, name: string) => ({
      apiVersion: 'core.oam.dev/v1alpha2',
      kind: 'ApplicationConfiguration',
      metadata: { name, namespace },
      spec: { components: [{ componentName: 'web' }] },
    });

    it('apply -f - applies standard input; ls lists one namespace, -A all of them; -o json|yaml|name|wide', async () => {
      const applied = await runTrellis(
        ['apply', '-f', '-', '--timeout', '0', '-n', a.name, '--kubeconfig', kubeconfig()],
        {
          input: `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: from-stdin, namespace: ${a.name} }\ndata: { k: v }\n`,
        },
      );
      assert.equal(applied.code, 0, applied.stderr);
      assert.ok(
        await testCluster().kube.getOrNull({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          namespace: a.name,
          name: 'from-stdin',
        }),
      );

      const { kube } = testCluster();
      await kube.apply(appConfig(a.name, 'shop'));
      await kube.apply(appConfig(b.name, 'blog'));
      const now = new Date().toISOString();
      await kube.applyStatus({
        ...appConfig(a.name, 'shop'),
        status: {
          conditions: [
            { type: 'Synced', status: 'True', reason: 'ReconcileSuccess', lastTransitionTime: now },
            {
              type: 'Ready',
              status: 'False',
              reason: 'Unhealthy',
              message: 'Deployment/web: 0 of 2 ready',
              lastTransitionTime: now,
            },
          ],
        },
      } as KubeObject);

      const one = await runTrellis(['ls', '-n', a.name, '--kubeconfig', kubeconfig()]);
      assert.equal(one.code, 0, one.stderr);
      const [header, row, ...rest] = one.stdout.trim().split('\n');
      assert.match(header!, /^NAME\s+COMPONENTS\s+SYNCED\s+READY\s+AGE$/);
      assert.match(row!, /^shop\s+web\s+True\s+False\s+\d+s$/);
      assert.deepEqual(rest, []);
      const wide = await runTrellis(['ls', '-n', a.name, '-o', 'wide', '--kubeconfig', kubeconfig()]);
      assert.match(wide.stdout, /Ready Unhealthy: Deployment\/web: 0 of 2 ready$/m);

      const all = await runTrellis(['ls', '-A', '--kubeconfig', kubeconfig()]);
      const lines = all.stdout.trim().split('\n');
      assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+/);
      assert.ok(
        lines.some((l) => new RegExp(`^${a.name}\\s+shop\\s`).test(l)) &&
          lines.some((l) => new RegExp(`^${b.name}\\s+blog\\s+web\\s+Unknown\\s+Unknown`).test(l)),
        all.stdout,
      );

      const json = JSON.parse((await runTrellis(['ls', '-A', '-o', 'json', '--kubeconfig', kubeconfig()])).stdout) as {
        items: KubeObject[];
      };
      assert.ok(json.items.some((o) => o.metadata.namespace === b.name && o.metadata.name === 'blog'));
      const yaml = parse(
        (await runTrellis(['ls', '-n', b.name, '-o', 'yaml', '--kubeconfig', kubeconfig()])).stdout,
      ) as { items: KubeObject[] };
      assert.deepEqual(
        yaml.items.map((o) => o.metadata.name),
        ['blog'],
      );
      assert.equal(
        (await runTrellis(['ls', '-n', b.name, '-o', 'name', '--kubeconfig', kubeconfig()])).stdout,
        'applicationconfiguration.core.oam.dev/blog\n',
      );
      const status = JSON.parse(
        (await runTrellis(['status', 'shop', '-n', a.name, '-o', 'json', '--kubeconfig', kubeconfig()])).stdout,
      ) as KubeObject & { status: { conditions: { type: string }[] } };
      assert.deepEqual(
        status.status.conditions.map((c) => c.type),
        ['Synced', 'Ready'],
      );

      const empty = await runTrellis(['ls', '-n', 'nothing-here', '--kubeconfig', kubeconfig()]);
      assert.equal(empty.code, 0);
      assert.equal(empty.stdout, '');
      assert.equal(empty.stderr, 'No ApplicationConfigurations in namespace nothing-here.\n');
      const both = await runTrellis(['ls', '-A', '-n', a.name, '--kubeconfig', kubeconfig()]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /^error: -A lists every namespace: leave out -n/);
    });
  });
});
