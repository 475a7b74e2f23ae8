/** Page paths: building and matching them (pure: no DOM, so unit-tested in Node). */

/** `/apps/ns/name`-style paths, each segment escaped. */
export const pathOf = (...segments: string[]): string => segments.map((s) => `/${encodeURIComponent(s)}`).join('');

/** `/apps/:ns/:name` → `{ ns, name }` (decoded), or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const source = pattern.replace(/:(\w+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const m = new RegExp(`^${source}/?$`).exec(path);
  if (!m) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
}
