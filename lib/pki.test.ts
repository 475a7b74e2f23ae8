import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { certificateAuthorityFromPem, createCertificateAuthority } from './pki.js';

describe('lib: pki', () => {
  const ca = createCertificateAuthority('test-ca');

  it('issues a serving certificate for the names given, signed by the CA', () => {
    const pair = ca.issue({
      commonName: 'webhook',
      dnsNames: ['webhook.ns.svc'],
      ipAddresses: ['127.0.0.1'],
      usages: ['server'],
    });
    const cert = new X509Certificate(pair.cert);
    assert.ok(cert.checkIssued(new X509Certificate(ca.cert)));
    assert.ok(cert.verify(new X509Certificate(ca.cert).publicKey));
    assert.equal(cert.subjectAltName, 'DNS:webhook.ns.svc, IP Address:127.0.0.1');
    assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)));
  });

  it('puts Kubernetes groups in O= of client certificates', () => {
    const cert = new X509Certificate(
      ca.issue({ commonName: 'alice', organizations: ['system:masters', 'devs'], usages: ['client'] }).cert,
    );
    assert.equal(cert.subject, 'CN=alice\nO=system:masters\nO=devs');
  });

  it('reloads a CA from PEM and keeps issuing under it', () => {
    const again = certificateAuthorityFromPem(ca.cert, ca.key);
    assert.ok(new X509Certificate(again.issue({ commonName: 'x' }).cert).checkIssued(new X509Certificate(ca.cert)));
  });
});
