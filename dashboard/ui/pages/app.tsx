/**
 * `/apps/:ns/:name`: conditions; the tree ApplicationConfiguration → components (revision) → workload →
 * traits → the component's other objects, each with its health and a link to its rendered fields; Events.
 */
import { pathOf } from '../paths.js';
import { Empty, Health, Loaded, State, Table } from '../components.js';
import { age } from '../format.js';
import { useResource } from '../resource.js';
import type { AppDetail, Change, Child, ComponentNode } from '../types.js';

export function AppPage({ ns, name }: { ns: string; name: string }) {
  const base = `/apps${pathOf(ns, name)}`;
  // Anything in the namespace may be one of its objects or an Event about one: fetch again.
  const detail = useResource<AppDetail>(`/api${base}`, (c: Change) => c.namespace === ns);
  return (
    <>
      <p class="crumbs">
        <a href="/">Applications</a> / {ns}
      </p>
      <h1 tabIndex={-1}>
        {name} <small>in {ns}</small>
      </h1>
      <Loaded resource={detail} what={`ApplicationConfiguration ${ns}/${name}`}>
        {(d) => <Detail detail={d} base={base} />}
      </Loaded>
    </>
  );
}

const key = (c: { kind: string; name: string }) => `${c.kind}/${c.name}`;

function Detail({ detail, base }: { detail: AppDetail; base: string }) {
  const placed = new Set<string>();
  for (const c of detail.components) {
    if (c.workload) placed.add(key(c.workload));
    for (const t of c.traits) placed.add(key(t));
  }
  const extra = (component?: string) => detail.children.filter((c) => !placed.has(key(c)) && c.component === component);
  const unplaced = detail.children.filter(
    (c) => !placed.has(key(c)) && !detail.components.some((k) => k.name === c.component),
  );
  const conditions = detail.app.conditions;
  return (
    <>
      <section aria-labelledby="conditions-h">
        <h2 id="conditions-h">Conditions</h2>
        {conditions.length ? (
          <Table id="conditions" columns={['Type', 'Status', 'Reason', 'Message', 'Since']}>
            {conditions.map((c) => (
              <tr key={c.type}>
                <td>{c.type}</td>
                <td>
                  <State value={c.status} />
                </td>
                <td>{c.reason ?? ''}</td>
                <td>{c.message ?? ''}</td>
                <td>{age(c.lastTransitionTime)}</td>
              </tr>
            ))}
          </Table>
        ) : (
          <Empty>No conditions yet: the controller has not reconciled this application (is it running?).</Empty>
        )}
      </section>
      <div class="columns">
        <section aria-labelledby="tree-h">
          <h2 id="tree-h">Components</h2>
          {detail.components.length ? (
            <ul class="tree" id="tree">
              {detail.components.map((c) => (
                <ComponentItem key={c.name} component={c} base={base} objects={extra(c.name)} />
              ))}
            </ul>
          ) : (
            <Empty>Nothing applied yet.</Empty>
          )}
          {unplaced.length ? (
            <>
              <h3>Other objects</h3>
              <ul class="tree" id="others">
                {unplaced.map((c) => (
                  <li key={key(c)} class="object">
                    <ObjectLine child={c} label="" base={base} />
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <section aria-labelledby="events-h">
          <h2 id="events-h">Events</h2>
          {detail.events.length ? (
            <ul class="events" id="events">
              {detail.events.map((e, i) => (
                <li key={i} class={`event event-${(e.type ?? 'normal').toLowerCase()}`}>
                  <span class="when">{age(e.time)}</span> <strong>{e.reason}</strong>{' '}
                  <span class="object">
                    {e.object.kind}/{e.object.name}
                  </span>
                  {e.count && e.count > 1 ? ` ×${e.count}` : ''}
                  <br />
                  {e.message}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>No Events.</Empty>
          )}
        </section>
      </div>
    </>
  );
}

function ComponentItem({ component, base, objects }: { component: ComponentNode; base: string; objects: Child[] }) {
  return (
    <li class="component">
      <span class="kind">Component</span> <span class="name">{component.name}</span>
      {component.revision ? <span class="revision"> revision {component.revision}</span> : null}
      {component.pinned ? <span class="pinned"> (pinned)</span> : null}{' '}
      <a class="revisions-link" href={`${base}/components/${encodeURIComponent(component.name)}`}>
        Revisions<span class="visually-hidden"> of {component.name}</span>
      </a>
      <ul>
        {component.workload ? (
          <li class="workload">
            <ObjectLine child={component.workload} label="workload" base={base} />
          </li>
        ) : (
          <li class="workload">
            <span class="kind">workload</span> <Health health="not applied yet" healthy={false} />
          </li>
        )}
        {component.traits.map((t) => (
          <li key={key(t)} class="trait">
            <ObjectLine child={t} label="trait" base={base} />
          </li>
        ))}
        {objects.map((o) => (
          <li key={key(o)} class="object">
            <ObjectLine child={o} label="object" base={base} />
          </li>
        ))}
      </ul>
    </li>
  );
}

function ObjectLine({ child, label, base }: { child: Child; label: string; base: string }) {
  const href = `${base}/objects/${encodeURIComponent(child.kind)}/${encodeURIComponent(child.name)}`;
  return (
    <>
      <span class="kind">
        {label ? `${label} ` : ''}
        {child.kind}
      </span>{' '}
      <a class="name" href={href} aria-label={`${child.kind} ${child.name}: rendered fields`}>
        {child.name}
      </a>{' '}
      <Health health={child.health} healthy={child.healthy} />
    </>
  );
}
