import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Dashboard, CONTENT_SECURITY_POLICY } from '../../dashboard/server.js';
import type { KubeObject } from '../../kube/index.js';
import { silentLogger } from '../../lib/log.js';
import { accessibilityViolations, launchChromium, screenshot } from '../support/browser.js';
import { testCluster } from '../support/cluster.js';
import { useControllers } from '../support/controllers.js';
import { eventually, useNamespace } from '../support/namespace.js';

/** `trellis dashboard` in real Chromium, against the README quickstart's `web` + `shop` run by the controllers. */
describe('dashboard: applications, one application, live updates (real Chromium)', () => {
  const ns = useNamespace();
  useControllers(ns);
  let browser: Browser;
  let dashboard: Dashboard;
  let page: Page;
  before(async () => {
    browser = await launchChromium();
  });
  after(() => browser?.close());

  const oam = (kind: string, name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'core.oam.dev/v1alpha2',
    kind,
    metadata: { name, namespace: ns.name },
    spec,
  });
  beforeEach(async () => {
    const { kube } = testCluster();
    await kube.apply(
      oam('Component', 'web', { workload: { type: 'webservice', properties: { image: 'nginx:1.27', port: 80 } } }),
    );
    await kube.apply(
      oam('ApplicationConfiguration', 'shop', {
        components: [
          {
            componentName: 'web',
            traits: [
              { trait: { name: 'scaler', properties: { replicas: 2 } } },
              { trait: { name: 'ingress', properties: { host: 'shop.localhost' } } },
            ],
          },
        ],
      }),
    );
    await eventually(
      async () => {
        const app = await kube.get({
          apiVersion: 'core.oam.dev/v1alpha2',
          kind: 'ApplicationConfiguration',
          name: 'shop',
          namespace: ns.name,
        });
        return ((app.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        );
      },
      { what: 'shop Ready', timeoutMs: 90_000 },
    );
    dashboard = new Dashboard({ kube, logger: silentLogger, namespace: ns.name });
    await dashboard.start();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });
  afterEach(async () => {
    await page?.close();
    await dashboard?.stop();
  });

  it('lists shop Synced and Ready, filters, shows a new application live, and passes axe at 1280×800 and 390×800', async () => {
    const response = await page.goto(dashboard.url);
    assert.equal(response?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
    const shop = page.locator('#apps tbody tr', { hasText: 'shop' });
    assert.deepEqual(
      await shop
        .locator('td')
        .allInnerTexts()
        .then((t) => t.slice(0, 4)),
      [ns.name, 'shop', 'True', 'True'],
    );
    assert.deepEqual(await accessibilityViolations(page), []);
    await screenshot(page, 'applications');

    // Live: an application that cannot render appears, with its reason, without reloading the page.
    await page.evaluate(() => ((globalThis as unknown as { unreloaded: boolean }).unreloaded = true));
    await testCluster().kube.apply(
      oam('ApplicationConfiguration', 'cart', { components: [{ componentName: 'basket' }] }),
    );
    const cart = page.locator('#apps tbody tr', { hasText: 'cart' });
    await cart.locator('td', { hasText: 'False' }).first().waitFor();
    assert.match(await cart.innerText(), /basket/);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { unreloaded?: boolean }).unreloaded),
      true,
      'updated in place, not reloaded',
    );

    await page.fill('#filter', 'basket');
    assert.equal(await shop.isHidden(), true);
    assert.equal(await cart.isVisible(), true);

    await page.setViewportSize({ width: 390, height: 800 });
    await page.fill('#filter', '');
    assert.deepEqual(await accessibilityViolations(page), []);
    const scrolls = await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
    assert.equal(scrolls, false, 'no sideways scrolling on a narrow screen');
    await screenshot(page, 'applications-narrow');
  });

  it("shows shop's tree — web's Deployment with its replicas, the Ingress — and Events, and passes axe", async () => {
    await page.goto(dashboard.url);
    await page.click('text=shop');
    await page.waitForURL(/\/apps\/[^/]+\/shop$/);
    const tree = page.locator('#tree');
    const workload = tree.locator('li.workload');
    assert.match(await workload.innerText(), /workload Deployment web\s+2\/2 ready/);
    assert.match(await tree.locator('li.trait', { hasText: 'Ingress' }).innerText(), /trait Ingress web-ingress/);
    assert.match(await tree.innerText(), /Component web\s+revision web-v1/);
    assert.ok((await page.locator('#events li').count()) > 0, 'Events of shop are shown');
    assert.deepEqual(await accessibilityViolations(page), []);
    await screenshot(page, 'application');
    await page.setViewportSize({ width: 390, height: 800 });
    assert.deepEqual(await accessibilityViolations(page), []);
    await screenshot(page, 'application-narrow');
  });

  it('says plainly when the connection is lost, and that a missing application does not exist', async () => {
    await page.goto(dashboard.url);
    await page.waitForFunction("document.body.dataset.connected === 'true'");
    await dashboard.stop();
    const banner = page.locator('#connection');
    await banner.filter({ hasText: 'Connection to the dashboard lost' }).waitFor();
    await screenshot(page, 'connection-lost');
    dashboard = new Dashboard({ kube: testCluster().kube, logger: silentLogger, namespace: ns.name });
    await dashboard.start();
    const response = await page.goto(`${dashboard.url}apps/${ns.name}/nothing`);
    assert.equal(response?.status(), 404);
    assert.match(
      await page.locator('main').innerText(),
      new RegExp(`ApplicationConfiguration ${ns.name}/nothing not found`),
    );
  });
});
