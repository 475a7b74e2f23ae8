import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { accessibilityViolations, launchChromium, screenshot } from '../support/browser.js';
import { startTrellis } from '../support/cli.js';
import { eventually } from '../support/namespace.js';

const exec = promisify(execFile);

type Running = Awaited<ReturnType<typeof startTrellis>>;

/**
 * The dashboard's browser side in Debian's Chromium (playwright-core), against `trellis up` with the
 * README's quickstart — what the reader of the README has running. The `it`s run in order on one
 * `trellis up` (each page, then the rollback, which changes the application, then a second
 * dashboard as a user who may only read). Every page is checked by axe-core (WCAG 2 A/AA) at 1280×800
 * and 390×800, and photographed into test-results/screenshots/.
 */
describe('dashboard in real Chromium, against `trellis up examples/quickstart`', function () {
  this.timeout(600_000);
  let dir: string;
  let up: Running | undefined;
  let viewer: Running | undefined;
  let kubeconfig: string;
  let url: string;
  let functionsUrl: string;
  let browser: Browser;
  let page: Page;

  const kubectl = async (...args: string[]) =>
    (await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' })).stdout;
  /** `kubectl apply -f` of `yaml` written to the file `name` (returned, for a later `delete -f`). */
  const kubectlApply = async (name: string, yaml: string) => {
    const file = path.join(dir, name);
    await writeFile(file, yaml);
    await kubectl('apply', '-f', file);
    return file;
  };
  const stop = async (running: Running | undefined) => {
    if (!running || running.child.exitCode !== null) return;
    const exited = new Promise((resolve) => running.child.once('exit', resolve));
    running.child.kill('SIGINT');
    await exited;
  };
  const image = () => kubectl('get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');

  /** axe at 1280×800 and 390×800 (nothing may scroll sideways there), with a screenshot of each. */
  async function checkPage(name: string): Promise<void> {
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(await accessibilityViolations(page), [], `${name}: axe at 1280×800`);
    await screenshot(page, name);
    await page.setViewportSize({ width: 390, height: 800 });
    assert.deepEqual(await accessibilityViolations(page), [], `${name}: axe at 390×800`);
    const scrolls = await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
    assert.equal(scrolls, false, `${name}: nothing scrolls sideways on a narrow screen`);
    await screenshot(page, `${name}-narrow`);
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'trellis-dashboard-'));
    browser = await launchChromium();
    up = await startTrellis(
      ['up', 'examples/quickstart', '--data-dir', path.join(dir, 'data'), '--functions-port', '0'],
      /Functions answer at (http:\/\/\S+?) /,
      { timeoutMs: 600_000 },
    );
    kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.output())![1]!;
    functionsUrl = up.match[1]!;
    const printed = /Dashboard: (http:\/\/\S+)/.exec(up.output());
    assert.ok(printed, `trellis up prints its dashboard's URL:\n${up.output()}`);
    url = printed[1]!;
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  after(async () => {
    await browser?.close();
    await stop(viewer);
    await stop(up);
    await rm(dir, { recursive: true, force: true });
  });

  it('Applications: shop Synced and Ready; a new application appears live with its reason; the filter', async () => {
    const response = await page.goto(url);
    assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'/);
    const shop = page.locator('#apps tbody tr', { hasText: 'shop' });
    await shop.waitFor();
    assert.deepEqual((await shop.locator('td').allInnerTexts()).slice(0, 4), ['default', 'shop', 'True', 'True']);
    await checkPage('applications');

    // Live: an application that cannot render appears, with its reason, without reloading the page.
    await page.evaluate(() => ((globalThis as unknown as { unreloaded: boolean }).unreloaded = true));
    const cart = await kubectlApply(
      'cart.yaml',
      'apiVersion: core.oam.dev/v1alpha2\nkind: ApplicationConfiguration\nmetadata: { name: cart, namespace: default }\n' +
        'spec: { components: [ { componentName: basket } ] }\n',
    );
    const cartRow = page.locator('#apps tbody tr', { hasText: 'cart' });
    await cartRow.locator('td', { hasText: 'False' }).first().waitFor();
    assert.match(await cartRow.innerText(), /basket/);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { unreloaded?: boolean }).unreloaded),
      true,
      'updated in place, not reloaded',
    );
    await page.fill('#filter', 'basket');
    assert.equal(await shop.isHidden(), true);
    assert.equal(await cartRow.isVisible(), true);
    await page.fill('#filter', '');
    await kubectl('delete', '-f', cart, '--wait=false');
  });

  it("one application: the tree shows web's Deployment and Ingress with their health, the Events", async () => {
    await page.goto(url);
    await page.click('#apps a:text-is("shop")');
    await page.waitForURL(/\/apps\/default\/shop$/);
    const tree = page.locator('#tree');
    await tree.waitFor();
    const web = tree.locator('li.component', { hasText: 'web' }).first();
    assert.match(await web.innerText(), /Component web\s+revision web-v1/);
    assert.match(await web.locator('li.workload').innerText(), /workload Deployment\s+web\s+2\/2 ready/);
    assert.match(await web.locator('li.trait', { hasText: 'Ingress' }).innerText(), /trait Ingress\s+web-ingress/);
    assert.ok((await page.locator('#events li').count()) > 0, 'Events of shop are shown');
    await checkPage('application');
  });

  it('a rendered object: each field of the Deployment with what set it', async () => {
    await page.goto(`${url}apps/default/shop`);
    await page.locator('#tree li.workload a', { hasText: 'web' }).click();
    await page.waitForURL(/\/apps\/default\/shop\/objects\/Deployment\/web$/);
    // The row whose field cell is exactly this path (containers[0].image is also a prefix of imagePullPolicy).
    const row = (path: string) =>
      page.locator('#provenance tr').filter({ has: page.locator('td:first-child').getByText(path, { exact: true }) });
    const replicas = row('spec.replicas');
    await replicas.waitFor();
    assert.match(
      await replicas.innerText(),
      /spec\.replicas\s+2\s+parameter "replicas" of trait .*TraitDefinition\/scaler/,
    );
    const image = row('spec.template.spec.containers[0].image');
    assert.match(await image.innerText(), /"nginx:1\.27"\s+parameter "image" of component "web"/);
    await checkPage('rendered-object');
  });

  it('Functions: hello with small charts of instances, concurrency, requests and cold starts', async () => {
    await page.goto(`${url}functions`);
    const hello = page.locator('#functions li.function', { hasText: 'hello' });
    await hello.waitFor();
    assert.equal(await hello.locator('svg[role="img"], .nodata').count(), 4, 'four charts (or "no data")');
    // At zero (its first instance stopped, as in the README's step 6), a request makes the activator
    // start an instance: a cold start, which the charts show after the server's next sample, live.
    await kubectl(
      'wait',
      'fn/hello',
      '--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=ScaledToZero',
      '--timeout=120s',
    );
    const answer = await fetch(`${functionsUrl}/default/hello/`);
    assert.equal(answer.status, 200);
    await hello
      .locator('figure', { hasText: 'Cold starts' })
      .locator('svg[aria-label*="highest 1"]')
      .waitFor({ timeout: 60_000 });
    await checkPage('functions');
  });

  it('GitSyncs: none yet, said plainly; one whose repository cannot be fetched shows the error', async () => {
    await page.goto(`${url}gitsyncs`);
    await page.locator('main .empty', { hasText: 'No GitSyncs' }).waitFor();
    await checkPage('gitsyncs-empty');
    const gitsync = await kubectlApply(
      'gitsync.yaml',
      'apiVersion: gitops.trellis.dev/v1alpha1\nkind: GitSync\nmetadata: { name: config, namespace: default }\n' +
        'spec: { url: "http://127.0.0.1:9/nowhere.git", ref: { branch: main }, path: apps, interval: 1m }\n',
    );
    const card = page.locator('#gitsyncs li.gitsync', { hasText: 'config' });
    await card.locator('.state-false').waitFor();
    assert.match(await card.innerText(), /127\.0\.0\.1:9\/nowhere\.git/);
    await checkPage('gitsyncs');
    await kubectl('delete', '-f', gitsync, '--wait=false');
  });

  it("revisions: the diff between two, and a rollback clicked in the UI changes the Deployment's image", async () => {
    await kubectl(
      'patch',
      'component',
      'web',
      '--type',
      'merge',
      '-p',
      '{"spec":{"workload":{"properties":{"image":"nginx:1.28"}}}}',
    );
    await eventually(async () => (await image()) === 'nginx:1.28', { what: 'web runs nginx:1.28', timeoutMs: 60_000 });
    await page.goto(`${url}apps/default/shop`);
    await page.locator('#tree a.revisions-link').first().click();
    await page.waitForURL(/\/apps\/default\/shop\/components\/web$/);
    const rows = page.locator('#revisions tbody tr');
    await rows.filter({ hasText: 'web-v2' }).filter({ hasText: 'running' }).waitFor();
    const diff = page.locator('#diff');
    await diff.waitFor();
    assert.match(await diff.innerText(), /image\S*\s+"nginx:1\.28"\s+"nginx:1\.27"/);

    await page.locator('button.rollback', { hasText: 'web-v1' }).click();
    const dialog = page.locator('dialog#confirm-rollback');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Roll back web to web-v1\?/);
    await dialog.locator('#confirm-diff').waitFor();
    await checkPage('rollback-confirm');
    assert.equal(await image(), 'nginx:1.28', 'nothing changes before the confirmation');
    await dialog.locator('button#confirm').click();
    await page.locator('#outcome', { hasText: 'pinned to web-v1' }).waitFor();
    await eventually(async () => (await image()) === 'nginx:1.27', {
      what: 'web back on nginx:1.27',
      timeoutMs: 60_000,
    });
    await rows.filter({ hasText: 'web-v1' }).filter({ hasText: 'running' }).waitFor();
    await checkPage('revisions');
  });

  it('a user whose RBAC forbids patching sees no rollback button, and the API answers 403', async () => {
    await kubectl('create', 'serviceaccount', 'viewer');
    await kubectl(
      'create',
      'role',
      'viewer',
      '--verb=get,list,watch',
      '--resource=applicationconfigurations.core.oam.dev,components.core.oam.dev,controllerrevisions.apps,deployments.apps,services,ingresses.networking.k8s.io,events,functions.serverless.trellis.dev,gitsyncs.gitops.trellis.dev',
    );
    await kubectl('create', 'rolebinding', 'viewer', '--role=viewer', '--serviceaccount=default:viewer');
    const token = (await kubectl('create', 'token', 'viewer', '--duration=1h')).trim();
    const viewerConfig = path.join(dir, 'viewer.kubeconfig');
    await copyFile(kubeconfig, viewerConfig);
    const asViewer = (...args: string[]) => exec('kubectl', ['--kubeconfig', viewerConfig, ...args]);
    await asViewer('config', 'set-credentials', 'viewer', `--token=${token}`);
    await asViewer('config', 'set-context', '--current', '--user=viewer');
    viewer = await startTrellis(
      ['dashboard', '--kubeconfig', viewerConfig, '-n', 'default'],
      /dashboard: (http:\/\/\S+)/,
    );
    const viewerUrl = viewer.match[1]!;

    await page.goto(`${viewerUrl}apps/default/shop/components/web`);
    await page.locator('#revisions tbody tr', { hasText: 'web-v2' }).waitFor();
    assert.equal(await page.locator('button.rollback').count(), 0, 'no rollback button');
    assert.match(await page.locator('#no-rollback').innerText(), /You may not roll back/);
    await screenshot(page, 'revisions-read-only');
    // Trying anyway (with the session's CSRF token, as the page would) is refused by the API.
    const refused = await page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const response = await fetch('/api/apps/default/shop/rollback', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Trellis-CSRF': session.csrfToken },
        body: JSON.stringify({ component: 'web', to: 'web-v2' }),
      });
      return { status: response.status, body: await response.text() };
    });
    assert.equal(refused.status, 403, refused.body);
    assert.equal(await image(), 'nginx:1.27', 'nothing changed');
  });

  it('says plainly when the connection is lost, and that an application does not exist', async () => {
    const viewerUrl = viewer!.match[1]!;
    await page.goto(viewerUrl);
    // A selector, not waitForFunction("…"): a string predicate is eval'd in the page, which its CSP refuses.
    await page.locator('body[data-connected="true"]').waitFor({ state: 'attached' });
    await stop(viewer);
    await page.locator('#connection', { hasText: 'Connection to the dashboard lost' }).waitFor();
    await screenshot(page, 'connection-lost');
    await page.goto(`${url}apps/default/nothing`);
    await page.locator('main [role="alert"]', { hasText: 'not found' }).waitFor();
    await checkPage('not-found');
  });
});
