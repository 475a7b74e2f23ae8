import assert from 'node:assert/strict';
import { PushReceiver, signBody, type PushTarget } from './receiver.js';

const SECRET = 'webhook-secret-for-tests';
const targets: PushTarget[] = [
  { namespace: 'a', name: 'main', url: 'https://git.example.com/team/apps.git', branch: 'main' },
  { namespace: 'b', name: 'any-branch', url: 'ssh://git@git.example.com/team/apps' },
  { namespace: 'c', name: 'other', url: 'https://git.example.com/team/other.git' },
];
const push = (ref: string) =>
  JSON.stringify({
    ref,
    repository: { clone_url: 'https://git.example.com/team/apps.git', ssh_url: 'git@git.example.com:team/apps.git' },
  });

describe('gitops: PushReceiver (real HTTP on 127.0.0.1)', () => {
  let receiver: PushReceiver;
  let triggered: string[][];
  beforeEach(async () => {
    triggered = [];
    receiver = new PushReceiver({
      secret: SECRET,
      targets: () => targets,
      trigger: async (t) => void triggered.push(t.map((x) => `${x.namespace}/${x.name}`)),
    });
    await receiver.start();
  });
  afterEach(() => receiver.stop());

  const send = (body: string, headers: Record<string, string> = {}, method = 'POST', url = receiver.url) =>
    fetch(url, {
      method,
      body: method === 'GET' ? null : body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('triggers the GitSyncs following the pushed repository and branch, and answers 202', async () => {
    const body = push('refs/heads/main');
    const res = await send(body, { 'x-hub-signature-256': signBody(SECRET, body), 'x-github-event': 'push' });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { triggered: ['a/main', 'b/any-branch'] });
    assert.deepEqual(triggered, [['a/main', 'b/any-branch']]);
  });

  it('does not trigger a GitSync on another branch', async () => {
    const body = push('refs/heads/feature');
    const res = await send(body, { 'x-hub-signature-256': signBody(SECRET, body) });
    assert.deepEqual(await res.json(), { triggered: ['b/any-branch'] });
  });

  it('refuses a wrong signature, a signature by another secret, and none at all with 401, triggering nothing', async () => {
    const body = push('refs/heads/main');
    for (const header of <Record<string, string>[]>[
      { 'x-hub-signature-256': signBody('not-the-secret', body) },
      { 'x-hub-signature-256': 'sha256=00' },
      { 'x-hub-signature-256': signBody(SECRET, `${body} `) },
      {},
    ]) {
      const res = await send(body, header);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'bad or missing X-Hub-Signature-256' });
    }
    assert.deepEqual(triggered, []);
  });

  it('answers 404 elsewhere, 405 to GET, 413 to a huge body, 400 to a signed non-JSON body, 200 to a ping', async () => {
    assert.equal((await send('', {}, 'POST', receiver.url.replace('/hooks/git', '/other'))).status, 404);
    assert.equal((await send('', {}, 'GET')).status, 405);
    assert.equal((await send('x'.repeat(1024 * 1024 + 10))).status, 413);
    assert.equal((await send('nope', { 'x-hub-signature-256': signBody(SECRET, 'nope') })).status, 400);
    assert.equal(
      (await send('{}', { 'x-hub-signature-256': signBody(SECRET, '{}'), 'x-github-event': 'ping' })).status,
      200,
    );
    assert.deepEqual(triggered, []);
  });
});
