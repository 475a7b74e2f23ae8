import assert from 'node:assert/strict';
import { checkRepositoryUrl, repositoryKey } from './url.js';
import { redact } from './redact.js';

describe('gitops: checkRepositoryUrl', () => {
  it('accepts https, http, ssh and file URLs', () => {
    for (const url of [
      'https://git.example.com/a/b.git',
      'http://127.0.0.1:8080/r.git',
      'ssh://git@127.0.0.1:2222/r.git',
      'file:///srv/git/r',
    ])
      assert.equal(checkRepositoryUrl(url), url);
  });

  it('refuses the ext:: transport, other schemes and scp-like addresses with TRL_GITOPS_URL', () => {
    assert.throws(
      () => checkRepositoryUrl("ext::sh -c 'touch /tmp/pwned'"),
      /\[TRL_GITOPS_URL\] spec\.url: "ext::" transports are not allowed/,
    );
    assert.throws(
      () => checkRepositoryUrl('git://example.com/r.git'),
      /\[TRL_GITOPS_URL\] spec\.url: scheme "git" is not allowed/,
    );
    assert.throws(
      () => checkRepositoryUrl('git@github.com:org/app.git'),
      /write it as ssh:\/\/git@github\.com\/org\/app\.git/,
    );
    assert.throws(() => checkRepositoryUrl('not a url'), /is not a URL/);
  });

  it('refuses a password in the URL, naming the object', () => {
    assert.throws(
      () => checkRepositoryUrl('https://bob:hunter22@git.example.com/r.git', { object: 'GitSync/ns/apps' }),
      (err: Error) => {
        assert.match(err.message, /^\[TRL_GITOPS_URL\] GitSync\/ns\/apps: spec\.url: the URL contains a password/);
        assert.doesNotMatch(err.message, /hunter22/);
        return true;
      },
    );
  });
});

describe('gitops: repositoryKey', () => {
  it('treats https, ssh and scp-like spellings of one repository as the same', () => {
    const keys = [
      'https://github.com/Org/App.git',
      'ssh://git@github.com/org/app',
      'git@github.com:org/app.git',
      'https://github.com/org/app/',
    ].map(repositoryKey);
    assert.deepEqual(new Set(keys), new Set(['github.com/org/app']));
  });

  it('keeps different repositories apart', () => {
    assert.notEqual(repositoryKey('https://github.com/org/app'), repositoryKey('https://github.com/org/app2'));
  });
});

describe('gitops: redact', () => {
  it('blanks secrets, their base64 and URL-encoded forms', () => {
    const out = redact(`p=s3cr3t/x Authorization: Basic ${Buffer.from('s3cr3t/x').toString('base64')} u=s3cr3t%2Fx`, [
      's3cr3t/x',
    ]);
    assert.equal(out, 'p=[redacted] Authorization: Basic [redacted] u=[redacted]');
  });
});
