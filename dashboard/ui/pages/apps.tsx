/** `/`: every ApplicationConfiguration the user may list — Synced, Ready, reason, age — with a filter. */
import { pathOf } from '../paths.js';
import { Empty, Loaded, State, Table } from '../components.js';
import { age, plural } from '../format.js';
import { useResource } from '../resource.js';
import type { AppRow, Change } from '../types.js';

const concerns = (c: Change) => c.kind === 'ApplicationConfiguration';

export function AppsPage({ filter, setFilter }: { filter: string; setFilter: (f: string) => void }) {
  const apps = useResource<{ items: AppRow[] }>('/api/apps', concerns);
  const words = filter.trim().toLowerCase();
  const shown = (r: AppRow) => !words || `${r.namespace}/${r.name} ${r.reason}`.toLowerCase().includes(words);
  return (
    <>
      <h1 tabIndex={-1}>Applications</h1>
      <p class="filter">
        <label for="filter">Filter</label>{' '}
        <input
          id="filter"
          type="search"
          placeholder="namespace, name or reason"
          value={filter}
          onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
        />
      </p>
      <Loaded resource={apps} what="the applications">
        {({ items }) => {
          if (!items.length)
            return (
              <Empty>
                No ApplicationConfigurations yet. Apply one, e.g. <code>trellis apply -f examples/quickstart</code>: it
                appears here at once.
              </Empty>
            );
          const rows = items.filter(shown);
          return (
            <>
              <Table
                id="apps"
                caption={`${plural(items.length, 'ApplicationConfiguration')}${rows.length !== items.length ? `, ${rows.length} shown` : ''}`}
                columns={['Namespace', 'Name', 'Synced', 'Ready', 'Reason', 'Age']}
              >
                {rows.map((r) => (
                  <tr key={`${r.namespace}/${r.name}`}>
                    <td>{r.namespace}</td>
                    <td>
                      <a href={`/apps${pathOf(r.namespace, r.name)}`}>{r.name}</a>
                    </td>
                    <td>
                      <State value={r.synced} />
                    </td>
                    <td>
                      <State value={r.ready} />
                    </td>
                    <td class="reason">{r.reason}</td>
                    <td>{age(r.created)}</td>
                  </tr>
                ))}
              </Table>
              {!rows.length ? <Empty>Nothing matches “{filter}”.</Empty> : null}
            </>
          );
        }}
      </Loaded>
    </>
  );
}
