import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  certificateAuthorityFromPem,
  createCertificateAuthority,
  generateSigningKey,
  type KeyPair,
} from '../lib/pki.js';

/** The user name of the admin kubeconfig (group system:masters), which kube-controller-manager and kwok run as too. */
export const ADMIN_USER = 'trellis-admin';

/** The certificate files one control plane uses, under `<dataDir>/pki`. */
export interface PkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  saPublicKey: string;
  saPrivateKey: string;
}

const names = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'apiserver.crt',
  servingKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  saPublicKey: 'sa.pub',
  saPrivateKey: 'sa.key',
} as const;

/** Creates the control plane's CA, serving and admin certificates and service-account keys, or reuses them. */
export async function ensurePki(dataDir: string): Promise<PkiFiles> {
  const dir = path.join(dataDir, 'pki');
  const files = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, path.join(dir, v)])) as Omit<
    PkiFiles,
    'dir'
  >;
  if (Object.values(files).every((f) => existsSync(f))) return { dir, ...files };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = createCertificateAuthority('trellis-local-ca');
  const serving = ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
    usages: ['server'],
    validDays: 3650,
  });
  const admin = ca.issue({
    commonName: ADMIN_USER,
    organizations: ['system:masters'],
    usages: ['client'],
    validDays: 3650,
  });
  const sa = generateSigningKey();
  const write = (file: string, text: string) => writeFile(file, text, { mode: 0o600 });
  await Promise.all([
    write(files.caCert, ca.cert),
    write(files.caKey, ca.key),
    write(files.servingCert, serving.cert),
    write(files.servingKey, serving.key),
    write(files.adminCert, admin.cert),
    write(files.adminKey, admin.key),
    write(files.saPublicKey, sa.publicKey),
    write(files.saPrivateKey, sa.privateKey),
  ]);
  return { dir, ...files };
}

/** Issues a client certificate from the control plane's CA (user = CN, groups = O). */
export async function issueClientCert(pki: PkiFiles, user: string, groups: string[] = []): Promise<KeyPair> {
  const ca = certificateAuthorityFromPem(await readFile(pki.caCert, 'utf8'), await readFile(pki.caKey, 'utf8'));
  return ca.issue({ commonName: user, organizations: groups, usages: ['client'] });
}
