/**
 * Replaces every occurrence of each secret (and of its base64 form, as in a Basic auth header) with
 * `[redacted]`. Secrets shorter than 4 characters are left alone: blanking them would shred
 * ordinary text without protecting anything.
 *
 * @example redact('fatal: password hunter22 rejected', ['hunter22']) // 'fatal: password [redacted] rejected'
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)])
      out = out.split(form).join('[redacted]');
    for (const line of secret
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 16))
      out = out.split(line).join('[redacted]');
  }
  return out;
}
