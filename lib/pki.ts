import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface CertificateAuthority extends KeyPair {
  /** Issues a leaf certificate signed by this CA. */
  issue(options: LeafOptions): KeyPair;
}

export interface LeafOptions {
  /** Subject common name, e.g. `admin` or `trellis-webhook.trellis-system.svc`. */
  commonName: string;
  /** Subject organisations (Kubernetes groups for client certificates). */
  organizations?: string[];
  /** DNS names for a serving certificate. */
  dnsNames?: string[];
  /** IP addresses for a serving certificate. */
  ipAddresses?: string[];
  /** `server`, `client` or both. @default ['server', 'client'] */
  usages?: ('server' | 'client')[];
  /** @default 365 */
  validDays?: number;
}

/** Keys come from Node's native crypto (fast); node-forge only assembles and signs the certificates. */
function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; privatePem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), privatePem };
}

function newCert(publicKey: forge.pki.PublicKey, validDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + validDays * 86_400_000);
  return cert;
}

/** A new RSA key pair (PEM: PKCS#8 private key, SPKI public key), e.g. for service-account tokens. */
export function generateSigningKey(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Creates a self-signed CA (RSA 2048, SHA-256) that issues serving and client certificates.
 *
 * @example
 *   const ca = createCertificateAuthority('trellis-test-ca')
 *   const serving = ca.issue({ commonName: 'localhost', ipAddresses: ['127.0.0.1'], usages: ['server'] })
 */
export function createCertificateAuthority(commonName: string, validDays = 3650): CertificateAuthority {
  const keys = rsaKeys();
  const caCert = newCert(keys.publicKey, validDays);
  const subject = [{ name: 'commonName', value: commonName }];
  caCert.setSubject(subject);
  caCert.setIssuer(subject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(keys.privateKey, forge.md.sha256.create());
  return authority(caCert, keys.privateKey, keys.privatePem);
}

/** A CA from its PEM certificate and key, e.g. one created earlier and kept on disk. */
export function certificateAuthorityFromPem(certPem: string, keyPem: string): CertificateAuthority {
  return authority(
    forge.pki.certificateFromPem(certPem),
    forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
    keyPem,
  );
}

function authority(
  caCert: forge.pki.Certificate,
  caKey: forge.pki.rsa.PrivateKey,
  caKeyPem: string,
): CertificateAuthority {
  return {
    cert: forge.pki.certificateToPem(caCert),
    key: caKeyPem,
    issue(options: LeafOptions): KeyPair {
      const leafKeys = rsaKeys();
      const cert = newCert(leafKeys.publicKey, options.validDays ?? 365);
      cert.setSubject([
        { name: 'commonName', value: options.commonName },
        ...(options.organizations ?? []).map((value) => ({ name: 'organizationName', value })),
      ]);
      cert.setIssuer(caCert.subject.attributes);
      const usages = options.usages ?? ['server', 'client'];
      const altNames = [
        ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
        ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
      ];
      cert.setExtensions([
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: usages.includes('server'), clientAuth: usages.includes('client') },
        { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
        ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
      ]);
      cert.sign(caKey, forge.md.sha256.create());
      return { cert: forge.pki.certificateToPem(cert), key: leafKeys.privatePem };
    },
  };
}
