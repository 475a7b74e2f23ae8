/** Tagged template that escapes every interpolated value, except {@link Html} fragments and arrays of them. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `&`, `<`, `>`, quotes escaped: safe in element content and quoted attributes. */
export function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * @example
 *   markup`<td>${name}</td>` // name escaped
 *   markup`<ul>${items.map((i) => markup`<li>${i}</li>`)}</ul>`
 */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const part = (v: unknown): string =>
    v instanceof Html ? v.text : Array.isArray(v) ? v.map(part).join('') : escape(v);
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]) : ''), ''));
}

/** `3m`, `2h`, `5d`: how long ago a timestamp was (the column kubectl calls AGE). */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
