/**
 * `/apps/:ns/:name/components/:component`: the component's revisions, the diff between any two, and the
 * rollback button — shown only when the user may roll back (the server asks the API server), behind a
 * confirmation dialog, sent with the session's CSRF token. It does what `trellis rollback` does.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, postJson } from '../api.js';
import { pathOf } from '../paths.js';
import { Empty, ErrorNote, Loaded, Table } from '../components.js';
import { age, showValue } from '../format.js';
import { useResource } from '../resource.js';
import type { Change, Revision, RevisionDiff, Revisions, RollbackResult } from '../types.js';

export function RevisionsPage({ ns, name, component }: { ns: string; name: string; component: string }) {
  const app = `/apps${pathOf(ns, name)}`;
  const api = `/api${app}/components/${encodeURIComponent(component)}`;
  const inNamespace = (c: Change) => c.namespace === ns;
  const revisions = useResource<Revisions>(`${api}/revisions`, inNamespace);
  const [outcome, setOutcome] = useState<{ message: string; ok: boolean }>();
  const [confirming, setConfirming] = useState<Revision>();
  return (
    <>
      <p class="crumbs">
        <a href="/">Applications</a> / {ns} / <a href={app}>{name}</a>
      </p>
      <h1 tabIndex={-1}>
        Revisions of {component} <small>in {name}</small>
      </h1>
      <p id="outcome" role="status" class={outcome ? (outcome.ok ? 'done' : 'error') : ''}>
        {outcome?.message ?? ''}
      </p>
      <Loaded resource={revisions} what={`the revisions of ${component}`}>
        {(r) => (
          <>
            {r.permissions.rollback ? null : (
              <p class="note" id="no-rollback">
                You may not roll back this application{r.permissions.reason ? `: ${r.permissions.reason}` : ''}.
              </p>
            )}
            {r.revisions.length ? (
              <RevisionTable revisions={r} onRollback={setConfirming} />
            ) : (
              <Empty>No revisions of {component} yet.</Empty>
            )}
            {r.revisions.length > 1 ? <DiffSection api={api} revisions={r.revisions} /> : null}
          </>
        )}
      </Loaded>
      {confirming ? (
        <ConfirmRollback
          api={api}
          app={`${app}`}
          component={component}
          target={confirming}
          onDone={(result) => {
            setConfirming(undefined);
            if (result) setOutcome(result);
            revisions.reload();
          }}
        />
      ) : null}
    </>
  );
}

function RevisionTable({ revisions, onRollback }: { revisions: Revisions; onRollback: (r: Revision) => void }) {
  const allowed = revisions.permissions.rollback;
  return (
    <Table
      id="revisions"
      caption={revisions.pinned ? 'Pinned to a revision (rolled back): a component change makes a new revision.' : ''}
      columns={['Revision', 'Name', 'Image', 'Age', allowed ? 'Action' : <span class="visually-hidden">State</span>]}
    >
      {revisions.revisions.map((r) => (
        <tr key={r.name} class={r.current ? 'current' : ''}>
          <td>{r.revision}</td>
          <td>{r.name}</td>
          <td>{r.image ?? '-'}</td>
          <td>{age(r.created)}</td>
          <td>
            {r.current ? (
              <span class="state state-true">running</span>
            ) : allowed ? (
              <button type="button" class="rollback" onClick={() => onRollback(r)}>
                Roll back to {r.name}
              </button>
            ) : null}
          </td>
        </tr>
      ))}
    </Table>
  );
}

function DiffSection({ api, revisions }: { api: string; revisions: Revision[] }) {
  const current = revisions.find((r) => r.current) ?? revisions[0]!;
  const other = revisions.find((r) => r !== current)!;
  const [from, setFrom] = useState(current.name);
  const [to, setTo] = useState(other.name);
  const diff = useResource<RevisionDiff>(
    `${api}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    () => false,
  );
  const select = (id: string, label: string, value: string, set: (v: string) => void) => (
    <span class="pick">
      <label for={id}>{label}</label>{' '}
      <select id={id} value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        {revisions.map((r) => (
          <option key={r.name} value={r.name}>
            {r.name}
            {r.current ? ' (running)' : ''}
          </option>
        ))}
      </select>
    </span>
  );
  return (
    <section aria-labelledby="diff-h">
      <h2 id="diff-h">Compare</h2>
      <p class="pickers">
        {select('diff-from', 'From', from, setFrom)} {select('diff-to', 'to', to, setTo)}
      </p>
      <Loaded resource={diff} what="the difference">
        {(d) => <Changes diff={d} id="diff" />}
      </Loaded>
    </section>
  );
}

function Changes({ diff, id }: { diff: RevisionDiff; id: string }) {
  if (!diff.changes.length)
    return (
      <Empty>
        {diff.from} and {diff.to} are the same.
      </Empty>
    );
  return (
    <Table id={id} class="diff" caption={`From ${diff.from} to ${diff.to}`} columns={['Field', diff.from, diff.to]}>
      {diff.changes.map((c) => (
        <tr key={c.path}>
          <td>
            <code>{c.path}</code>
          </td>
          <td class="before">
            <code>{showValue(c.before)}</code>
          </td>
          <td class="after">
            <code>{showValue(c.after)}</code>
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** The confirmation: a modal <dialog> naming the change (the diff running → target) before anything is sent. */
function ConfirmRollback(props: {
  api: string;
  app: string;
  component: string;
  target: Revision;
  onDone: (result?: { message: string; ok: boolean }) => void;
}) {
  const { api, app, component, target, onDone } = props;
  const dialog = useRef<HTMLDialogElement>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<ApiError>();
  const diff = useResource<RevisionDiff>(`${api}/diff?to=${encodeURIComponent(target.name)}`, () => false);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    const cancel = () => onDone();
    d?.addEventListener('cancel', cancel);
    return () => d?.removeEventListener('cancel', cancel);
  }, []);
  const confirm = async () => {
    setSending(true);
    try {
      const result = await postJson<RollbackResult>(`/api${app}/rollback`, { component, to: target.name });
      dialog.current?.close();
      onDone({ message: result.message, ok: true });
    } catch (err) {
      setSending(false);
      setError(err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err)));
    }
  };
  return (
    <dialog ref={dialog} id="confirm-rollback" aria-labelledby="confirm-h" aria-describedby="confirm-d">
      <h2 id="confirm-h">
        Roll back {component} to {target.name}?
      </h2>
      <p id="confirm-d">
        The application will run revision {target.name}
        {target.image ? ` (image ${target.image})` : ''} and keep it until you change the component. This changes:
      </p>
      <Loaded resource={diff} what="the change">
        {(d) => <Changes diff={d} id="confirm-diff" />}
      </Loaded>
      {error ? <ErrorNote error={error} what="roll back" /> : null}
      <p class="buttons">
        <button
          type="button"
          onClick={() => {
            dialog.current?.close();
            onDone();
          }}
        >
          Cancel
        </button>{' '}
        <button type="button" class="danger" id="confirm" disabled={sending} onClick={() => void confirm()}>
          {sending ? 'Rolling back…' : `Roll back to ${target.name}`}
        </button>
      </p>
    </dialog>
  );
}
