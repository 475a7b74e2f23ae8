/** `/apps/:ns/:name/objects/:kind/:object`: a rendered object, each field with what set it (provenance). */
import { pathOf } from '../paths.js';
import { Empty, Loaded, Table } from '../components.js';
import { showValue } from '../format.js';
import { useResource } from '../resource.js';
import type { Change, RenderedObject } from '../types.js';

export function ObjectPage({ ns, name, kind, object }: { ns: string; name: string; kind: string; object: string }) {
  const app = `/apps${pathOf(ns, name)}`;
  const query = `kind=${encodeURIComponent(kind)}&name=${encodeURIComponent(object)}`;
  const rendered = useResource<RenderedObject>(
    `/api${app}/objects?${query}`,
    (c: Change) => c.namespace === ns && c.kind === 'ApplicationConfiguration' && c.name === name,
  );
  return (
    <>
      <p class="crumbs">
        <a href="/">Applications</a> / {ns} / <a href={app}>{name}</a>
      </p>
      <h1 tabIndex={-1}>
        {kind} {object} <small>as {name} renders it</small>
      </h1>
      <Loaded resource={rendered} what={`the rendered ${kind} ${object}`}>
        {(r) =>
          r.fields.length ? (
            <Table
              id="provenance"
              caption={`Each field of ${r.object.apiVersion} ${kind} ${object}, and what set it`}
              columns={['Field', 'Value', 'Set by']}
            >
              {r.fields.map((f) => (
                <tr key={f.path}>
                  <td>
                    <code>{f.path}</code>
                  </td>
                  <td>
                    <code>{showValue(f.value)}</code>
                  </td>
                  <td class="origin">{f.origin}</td>
                </tr>
              ))}
            </Table>
          ) : (
            <Empty>No rendered fields: this object was not rendered from a definition.</Empty>
          )
        }
      </Loaded>
    </>
  );
}
