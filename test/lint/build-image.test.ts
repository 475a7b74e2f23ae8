import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../controlplane/index.js';

/**
 * scripts/build-image.sh, the command the README gives for building the chart's image. No builder
 * can build here (Docker has no engine and docker.io is out of reach), so this checks what it would
 * run and how it refuses; the Dockerfile itself is checked by dockerfile.test.ts.
 */
describe('scripts/build-image.sh', () => {
  const root = packageRoot();
  const script = path.join(root, 'scripts', 'build-image.sh');
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync('bash', [script, ...args], { encoding: 'utf8', env });
  const chart = path.join(root, 'charts', 'trellis');
  const values = parse(readFileSync(path.join(chart, 'values.yaml'), 'utf8')) as {
    image: { repository: string; tag: string };
  };
  const appVersion = (parse(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;

  /** A PATH with the shell tools the script uses and no image builder at all. */
  let bare: string;
  before(() => {
    bare = mkdtempSync(path.join(os.tmpdir(), 'trellis-build-image-'));
    for (const tool of ['bash', 'awk', 'sed', 'dirname']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, path.join(bare, tool));
    }
  });
  after(() => rmSync(bare, { recursive: true, force: true }));

  it('tags the image as the chart names it by default, so helm install needs no --set once it is loaded', () => {
    assert.equal(values.image.tag, '', 'the chart defaults the tag to its appVersion');
    const r = run(['--print']);
    assert.equal(r.status, 0, r.stderr);
    const [build] = r.stdout.trim().split('\n');
    assert.match(
      build!,
      new RegExp(
        `^(docker|podman|buildah) build --file ${root}/Dockerfile --tag ${values.image.repository}:${appVersion} ${root}$`,
      ),
    );
  });

  it('loads into kind or minikube, pushes, and takes another tag', () => {
    const kind = run(
      ['--print', '--load', 'kind', '--kind-name', 'dev', '--tag', 'registry.local:5000/trellis:dev', '--push'],
      { ...process.env, BUILDER: 'docker' },
    )
      .stdout.trim()
      .split('\n');
    assert.deepEqual(kind.slice(1), [
      'docker push registry.local:5000/trellis:dev',
      'kind load docker-image registry.local:5000/trellis:dev --name dev',
    ]);
    const minikube = run(['--print', '--load=minikube'], { ...process.env, BUILDER: 'podman' })
      .stdout.trim()
      .split('\n');
    assert.deepEqual(minikube, [
      `podman build --file ${root}/Dockerfile --tag ${values.image.repository}:${appVersion} ${root}`,
      `minikube image load ${values.image.repository}:${appVersion}`,
    ]);
  });

  it('refuses bad options in a sentence, exit 1', () => {
    for (const [args, message] of [
      [['--load', 'k3s'], /--load must be kind or minikube, got "k3s"/],
      [['--tag', 'trellis'], /--tag must name a tag too/],
      [['--frobnicate'], /unknown option "--frobnicate"/],
    ] as const) {
      const r = run(['--print', ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
  });

  it('says what is needed where no builder can build', () => {
    const none = run([], { PATH: bare, HOME: os.tmpdir() });
    assert.equal(none.status, 1);
    assert.match(
      none.stderr,
      /^build-image: no image builder here: install Docker \(with a running engine\), Podman or Buildah\n$/,
    );
    const named = run([], { PATH: bare, HOME: os.tmpdir(), BUILDER: 'podman' });
    assert.equal(named.status, 1);
    assert.match(named.stderr, /BUILDER=podman cannot build here: it is not installed/);
  });
});
