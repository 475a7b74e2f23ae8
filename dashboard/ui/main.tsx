/**
 * The dashboard's browser side (Preact, bundled by scripts/build-dashboard.ts into dashboard/assets/app.js):
 * the header, the connection banner, and the page for the current path.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useConnection } from './live.js';
import { AppPage } from './pages/app.js';
import { AppsPage } from './pages/apps.js';
import { FunctionsPage } from './pages/functions.js';
import { GitSyncsPage } from './pages/gitsyncs.js';
import { ObjectPage } from './pages/object.js';
import { RevisionsPage } from './pages/revisions.js';
import { match } from './paths.js';
import { interceptLinks, useLocation } from './router.js';

const NAV = [
  { href: '/', label: 'Applications' },
  { href: '/functions', label: 'Functions' },
  { href: '/gitsyncs', label: 'GitSyncs' },
];

function Page({ path }: { path: string }) {
  const [filter, setFilter] = useState('');
  let m: Record<string, string> | undefined;
  if (path === '/') return <AppsPage filter={filter} setFilter={setFilter} />;
  if (path === '/functions') return <FunctionsPage />;
  if (path === '/gitsyncs') return <GitSyncsPage />;
  if ((m = match('/apps/:ns/:name', path))) return <AppPage key={path} ns={m.ns!} name={m.name!} />;
  if ((m = match('/apps/:ns/:name/components/:component', path)))
    return <RevisionsPage key={path} ns={m.ns!} name={m.name!} component={m.component!} />;
  if ((m = match('/apps/:ns/:name/objects/:kind/:object', path)))
    return <ObjectPage key={path} ns={m.ns!} name={m.name!} kind={m.kind!} object={m.object!} />;
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p class="error">There is no page {path}.</p>
      <p>
        <a href="/">All applications</a>
      </p>
    </>
  );
}

function title(path: string): string {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!parts.length) return 'Applications';
  if (parts[0] === 'apps') return parts.slice(1).join(' / ');
  return parts.join(' / ').replace(/^./, (c) => c.toUpperCase());
}

function App() {
  const { path } = useLocation();
  const connected = useConnection();
  useEffect(() => {
    document.title = `${title(path)} · Trellis`;
    // After navigating in place, take the reader to the new page's heading (as a page load would).
    if (document.body.dataset.navigated) document.querySelector<HTMLElement>('main h1')?.focus();
    document.body.dataset.navigated = 'true';
  }, [path]);
  const current = (href: string) => (href === '/' ? path === '/' || path.startsWith('/apps') : path.startsWith(href));
  return (
    <>
      <header>
        <nav aria-label="Main">
          <a href="/" class="brand">
            Trellis
          </a>
          {NAV.map((n) => (
            <a key={n.href} href={n.href} aria-current={current(n.href) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <p id="connection" role="status" class={connected === false ? 'lost' : ''}>
          {connected === false
            ? 'Connection to the dashboard lost: what you see may be out of date. Reconnecting…'
            : ''}
        </p>
      </header>
      <main id="main">
        <Page path={path} />
      </main>
    </>
  );
}

const root = document.getElementById('root')!;
interceptLinks(root);
render(<App />, root);
