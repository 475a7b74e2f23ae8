/** `/functions`: each Function's readiness, traffic and small charts of the last minutes. */
import { CardList, Sparkline, State } from '../components.js';
import { useResource } from '../resource.js';
import type { Change, FunctionItem, Functions } from '../types.js';

// A Function's object changed, or the server took a sample (it says so as a change of each Function).
const concerns = (c: Change) => c.kind === 'Function';

export function FunctionsPage() {
  const functions = useResource<Functions>('/api/functions', concerns);
  return (
    <>
      <h1 tabIndex={-1}>Functions</h1>
      <CardList
        resource={functions}
        what="the Functions"
        id="functions"
        empty={
          <>
            No Functions. A component of type <code>function</code> makes one (README: “a function that scales to
            zero”).
          </>
        }
        intro={(f) => (
          <p class="note">
            The last {Math.round(f.windowSeconds / 60)} minutes, one point every {f.intervalSeconds} s
            {f.source === 'status'
              ? ' — no activator metrics reachable: instances only, from the Functions’ status.'
              : ', from the activators’ metrics.'}
          </p>
        )}
        card={(item) => <FunctionCard key={`${item.namespace}/${item.name}`} item={item} />}
      />
    </>
  );
}

function FunctionCard({ item }: { item: FunctionItem }) {
  const s = item.series;
  return (
    <li class="card function">
      <h2>
        {item.name} <small>in {item.namespace}</small>
      </h2>
      <p>
        <State value={item.ready} />
        {item.reason ? ` ${item.reason}` : ''} · {item.readyReplicas ?? 0} of {item.replicas ?? 0} instances ready
        {item.url ? (
          <>
            {' '}
            · <code>{item.url}</code>
          </>
        ) : null}
      </p>
      {item.traffic.length ? (
        <p class="traffic">
          Traffic:{' '}
          {item.traffic
            .map((t) => `${t.revision ?? 'latest'}${t.tag ? ` (${t.tag})` : ''} ${t.percent ?? 0}%`)
            .join(', ')}
        </p>
      ) : null}
      <div class="sparks">
        <Sparkline label="Instances" values={s.instances} />
        <Sparkline label="Concurrency" values={s.concurrency} />
        <Sparkline label="Requests" values={s.requests} />
        <Sparkline label="Cold starts" values={s.coldStarts} />
      </div>
    </li>
  );
}
