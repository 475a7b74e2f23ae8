/** Server-rendered pages: plain HTML, one stylesheet and one script from /assets (no inline code: strict CSP). */
import type { WorkloadStatus } from '../apis/generated/core.oam.dev-v1alpha2.js';
import { age, markup, type Html } from './html.js';
import { appRow, type AppConfig, type AppRow, type ChildView, type EventView } from './model.js';

export type { EventView } from './model.js';

export function layout(title: string, body: Html, options: { live?: string } = {}): string {
  return markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Trellis</title>
        <link rel="stylesheet" href="/assets/style.css" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body data-live="${options.live ?? ''}">
        <header>
          <nav aria-label="Main"><a href="/" class="brand">Trellis</a> <a href="/">Applications</a></nav>
          <p id="connection" role="status" aria-live="polite"></p>
        </header>
        <main id="main">${body}</main>
      </body>
    </html> `.text;
}

const state = (value: string) => markup`<span class="state state-${value.toLowerCase()}">${value}</span>`;

export function appsPage(apps: AppConfig[], now = Date.now()): string {
  const rows = apps.map(appRow).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const row = (r: AppRow) =>
    markup`<tr data-search="${`${r.namespace}/${r.name} ${r.reason}`.toLowerCase()}">
      <td>${r.namespace}</td>
      <td><a href="/apps/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}">${r.name}</a></td>
      <td>${state(r.synced)}</td>
      <td>${state(r.ready)}</td>
      <td>${r.reason}</td>
      <td>${age(r.created, now)}</td>
    </tr>`;
  const body = markup`<h1>Applications</h1>
    <p>
      <label for="filter">Filter</label> <input id="filter" type="search" placeholder="namespace, name or reason" />
    </p>
    ${
      rows.length
        ? markup`<table id="apps">
            <caption>
              ${rows.length} ApplicationConfiguration${rows.length === 1 ? '' : 's'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Namespace</th>
                <th scope="col">Name</th>
                <th scope="col">Synced</th>
                <th scope="col">Ready</th>
                <th scope="col">Reason</th>
                <th scope="col">Age</th>
              </tr>
            </thead>
            <tbody>
              ${rows.map(row)}
            </tbody>
          </table>`
        : markup`<p class="empty">
            No ApplicationConfigurations yet. Apply one, e.g. <code>trellis apply -f examples/quickstart</code>: it
            appears here at once.
          </p>`
    }`;
  return layout('Applications', body, { live: 'apps' });
}

export interface AppPageData {
  app: AppConfig;
  children: ChildView[];
  events: EventView[];
}

export function appPage({ app, children, events }: AppPageData, now = Date.now()): string {
  const ns = app.metadata.namespace!;
  const name = app.metadata.name!;
  const child = (ref: { kind?: string; name?: string } | undefined) =>
    children.find((c) => c.kind === ref?.kind && c.name === ref?.name);
  const used = new Set<ChildView>();
  const objectItem = (c: ChildView | undefined, label: string, fallback?: { kind?: string; name?: string }) => {
    if (c) used.add(c);
    const kind = c?.kind ?? fallback?.kind ?? '?';
    const objName = c?.name ?? fallback?.name ?? '?';
    const health = c ? markup` ${healthBadge(c)}` : '';
    return markup`<span class="kind">${label} ${kind}</span> <span class="name">${objName}</span>${health}`;
  };
  const component = (w: WorkloadStatus) =>
    markup`<li class="component">
      <span class="kind">Component</span> <span class="name">${w.componentName}</span>
      ${w.componentRevisionName ? markup` <span class="revision">revision ${w.componentRevisionName}</span>` : ''}
      <ul>
        <li class="workload">${objectItem(child(w.workloadRef), 'workload', w.workloadRef)}</li>
        ${(w.traits ?? []).map((t) => markup`<li class="trait">${objectItem(child(t.traitRef), 'trait', t.traitRef)}${t.message ? markup` <span class="message">${t.message}</span>` : ''}</li>`)}
      </ul>
    </li>`;
  const workloads = app.status?.workloads ?? [];
  const componentItems = workloads.map(component);
  const others = children.filter((c) => !used.has(c));
  const conditions = app.status?.conditions ?? [];
  const body = markup`<p><a href="/">← Applications</a></p>
    <h1>${name} <small>in ${ns}</small></h1>
    <section aria-labelledby="conditions-h">
      <h2 id="conditions-h">Conditions</h2>
      ${
        conditions.length
          ? markup`<table>
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Message</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                ${conditions.map(
                  (c) =>
                    markup`<tr>
                      <td>${c.type}</td>
                      <td>${state(c.status)}</td>
                      <td>${c.reason ?? ''}</td>
                      <td>${c.message ?? ''}</td>
                      <td>${age(c.lastTransitionTime, now)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : markup`<p class="empty">
              No conditions yet: the controller has not reconciled this application (is it running?).
            </p>`
      }
    </section>
    <div class="columns">
      <section aria-labelledby="tree-h">
        <h2 id="tree-h">Components</h2>
        ${
          workloads.length
            ? markup`<ul class="tree" id="tree">
                ${componentItems}
              </ul>`
            : markup`<p class="empty">Nothing applied yet.</p>`
        }
        ${
          others.length
            ? markup`<h3>Other objects</h3>
                <ul class="tree">
                  ${others.map((c) => markup`<li>${objectItem(c, '')}</li>`)}
                </ul>`
            : ''
        }
      </section>
      <section aria-labelledby="events-h">
        <h2 id="events-h">Events</h2>
        ${
          events.length
            ? markup`<ul class="events" id="events">
                ${events.map((e) => markup`<li class="event event-${(e.type ?? 'normal').toLowerCase()}"><span class="when">${age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now)}</span> <strong>${e.reason}</strong> <span class="object">${e.involvedObject?.kind}/${e.involvedObject?.name}</span>${e.count && e.count > 1 ? markup` ×${e.count}` : ''}<br />${e.message}</li>`)}
              </ul>`
            : markup`<p class="empty">No Events.</p>`
        }
      </section>
    </div>`;
  return layout(`${ns}/${name}`, body, { live: `app:${ns}/${name}` });
}

function healthBadge(c: ChildView) {
  const cls = c.healthy === undefined ? 'unknown' : c.healthy ? 'true' : 'false';
  return markup`<span class="state state-${cls}">${c.health}</span>`;
}

export function errorPage(status: number, message: string): string {
  return layout(
    `Error ${status}`,
    markup`<h1>Error ${status}</h1>
      <p class="error">${message}</p>
      <p><a href="/">← Applications</a></p>`,
  );
}
