import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { certificateAuthorityFromPem, createCertificateAuthority } from '../lib/pki.js';

export interface LocalCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** PEM of the CA, for the webhook configurations' caBundle. */
  caBundle: string;
}

/**
 * For local runs and tests: a CA (`ca.crt`/`ca.key`) and a serving certificate (`tls.crt`/`tls.key`)
 * in `dir`, valid for `localhost`, `127.0.0.1` and the given extra names. Files already there are
 * reused (the CA always; the serving pair when it exists).
 */
export async function ensureLocalCertificates(dir: string, extraNames: string[] = []): Promise<LocalCertificates> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = {
    caFile: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    certFile: path.join(dir, 'tls.crt'),
    keyFile: path.join(dir, 'tls.key'),
  };
  let ca;
  if (existsSync(files.caFile) && existsSync(files.caKey)) {
    ca = certificateAuthorityFromPem(await readFile(files.caFile, 'utf8'), await readFile(files.caKey, 'utf8'));
  } else {
    ca = createCertificateAuthority('trellis-webhook-ca');
    await writeFile(files.caKey, ca.key, { mode: 0o600 });
    await writeFile(files.caFile, ca.cert);
  }
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
    const isIp = (n: string) => /^[\d.]+$|:/.test(n);
    const names = ['localhost', '127.0.0.1', ...extraNames];
    const serving = ca.issue({
      commonName: 'trellis-webhook',
      dnsNames: names.filter((n) => !isIp(n)),
      ipAddresses: names.filter(isIp),
      usages: ['server'],
    });
    await writeFile(files.keyFile, serving.key, { mode: 0o600 });
    await writeFile(files.certFile, serving.cert);
  }
  return { caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile, caBundle: ca.cert };
}
