/** Pieces every page uses: state badges, tables, empty/error/loading notes, the sparkline. */
import type { ComponentChildren } from 'preact';
import type { ApiError } from './api.js';
import type { Resource } from './resource.js';

/**
 * A table in a box that scrolls sideways on narrow screens: an optional caption, one header row of
 * column names (`scope="col"`), and the rows given as children.
 *
 * @example
 *   <Table id="apps" caption="2 ApplicationConfigurations" columns={['Namespace', 'Name']}>{rows}</Table>
 */
export function Table(props: {
  id: string;
  class?: string;
  caption?: ComponentChildren;
  columns: ComponentChildren[];
  children: ComponentChildren;
}) {
  return (
    <div class="scroll">
      <table id={props.id} class={props.class}>
        {props.caption === undefined ? null : <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c, i) => (
              <th scope="col" key={i}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** `True` / `False` / `Unknown` (or any word) as a coloured badge that also says it in text. */
export function State({ value }: { value: string }) {
  return <span class={`state state-${value.toLowerCase().replace(/[^a-z]/g, '')}`}>{value}</span>;
}

/** The health of an object: green, red or grey, and the words (`2/2 ready`, `missing`). */
export function Health({ health, healthy }: { health: string; healthy?: boolean | undefined }) {
  const cls = healthy === undefined ? 'neutral' : healthy ? 'true' : 'false';
  return <span class={`state state-${cls}`}>{health}</span>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** An error said plainly, with the server's sentence and code. */
export function ErrorNote({ error, what }: { error: ApiError; what: string }) {
  return (
    <div class="error" role="alert">
      <p>
        <strong>Could not load {what}:</strong> {error.message}
      </p>
      {error.code && !error.code.startsWith('HTTP_') ? <p class="code">{error.code}</p> : null}
    </div>
  );
}

/**
 * Renders `children(data)` once a resource has data; before that a loading note, on failure the error
 * (above the last good data, when there is some).
 */
export function Loaded<T>({
  resource,
  what,
  children,
}: {
  resource: Resource<T>;
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  const { data, error } = resource;
  return (
    <>
      {error ? <ErrorNote error={error} what={what} /> : null}
      {data !== undefined ? children(data) : error ? null : <p class="loading">Loading {what}…</p>}
    </>
  );
}

/**
 * A page's list of cards once loaded: the server's sentence when it cannot list them (kind not
 * served, not allowed), the `empty` note when there are none, else `<ul class="cards" id={id}>` with
 * `card(item)` for each, after what `intro(list)` says.
 */
export function CardList<L extends { items: unknown[]; unavailable?: string | undefined }>({
  resource,
  what,
  id,
  empty,
  intro,
  card,
}: {
  resource: Resource<L>;
  what: string;
  id: string;
  empty: ComponentChildren;
  intro?: (list: L) => ComponentChildren;
  card: (item: L['items'][number]) => ComponentChildren;
}) {
  return (
    <Loaded resource={resource} what={what}>
      {(list) =>
        list.unavailable ? (
          <p class="note" id="unavailable">
            {list.unavailable}
          </p>
        ) : list.items.length ? (
          <>
            {intro?.(list)}
            <ul class="cards" id={id}>
              {list.items.map(card)}
            </ul>
          </>
        ) : (
          <Empty>{empty}</Empty>
        )
      }
    </Loaded>
  );
}

/**
 * A small line chart as inline SVG (no chart library, nothing fetched): `values` over time, scaled to
 * its own maximum, labelled for screen readers with the latest value and the maximum.
 */
export function Sparkline({ label, values, unit = '' }: { label: string; values: number[]; unit?: string }) {
  const width = 160;
  const height = 40;
  if (!values.length)
    return (
      <figure class="spark">
        <figcaption>{label}</figcaption>
        <p class="nodata">no data</p>
      </figure>
    );
  const max = Math.max(...values, 1);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`);
  const last = values[values.length - 1]!;
  const summary = `${label}: now ${round(last)}${unit}, highest ${round(Math.max(...values))}${unit}`;
  return (
    <figure class="spark">
      <figcaption>
        {label} <strong>{round(last)}</strong>
        {unit}
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={summary}>
        <title>{summary}</title>
        <line class="baseline" x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} />
        <polyline points={points.join(' ')} fill="none" stroke="currentColor" stroke-width="1.5" />
      </svg>
    </figure>
  );
}

const round = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
