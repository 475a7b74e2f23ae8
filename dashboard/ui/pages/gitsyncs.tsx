/** `/gitsyncs`: each GitSync's source, last fetched and applied commit, errors and recent results. */
import { CardList, State } from '../components.js';
import { age, shortCommit } from '../format.js';
import { useResource } from '../resource.js';
import type { Change, GitSyncItem, GitSyncs } from '../types.js';

const concerns = (c: Change) => c.kind === 'GitSync';

export function GitSyncsPage() {
  const syncs = useResource<GitSyncs>('/api/gitsyncs', concerns);
  return (
    <>
      <h1 tabIndex={-1}>GitSyncs</h1>
      <CardList
        resource={syncs}
        what="the GitSyncs"
        id="gitsyncs"
        empty="No GitSyncs. A GitSync applies a folder of a Git repository and keeps it applied."
        card={(g) => <GitSyncCard key={`${g.namespace}/${g.name}`} sync={g} />}
      />
    </>
  );
}

function GitSyncCard({ sync }: { sync: GitSyncItem }) {
  return (
    <li class="card gitsync">
      <h2>
        {sync.name} <small>in {sync.namespace}</small>
      </h2>
      <p>
        <State value={sync.ready} /> {sync.reason ?? ''}
      </p>
      {sync.ready === 'False' && sync.message ? <p class="error">{sync.message}</p> : null}
      <dl>
        <dt>Source</dt>
        <dd>
          <code>{sync.url ?? '-'}</code> {sync.ref ? `at ${sync.ref}` : ''} {sync.path ? `, folder ${sync.path}` : ''}
        </dd>
        <dt>Last fetched</dt>
        <dd>
          <code>{shortCommit(sync.lastFetchedCommit)}</code>
        </dd>
        <dt>Last applied</dt>
        <dd>
          <code>{shortCommit(sync.lastAppliedCommit)}</code>
          {sync.lastSyncTime ? `, ${age(sync.lastSyncTime)} ago` : ''}
        </dd>
      </dl>
      {sync.history.length ? (
        <details>
          <summary>Recent results ({sync.history.length})</summary>
          <ul class="history">
            {sync.history.map((h, i) => (
              <li key={i}>
                {age(h.time)} ago <code>{shortCommit(h.commit)}</code> <strong>{h.result}</strong>
                {h.message ? ` — ${h.message}` : ''}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </li>
  );
}
