/** A small history router: the path is the state; same-origin links navigate without a reload. */
import { useEffect, useState } from 'preact/hooks';

const subscribers = new Set<() => void>();

export function navigate(href: string): void {
  if (href === location.pathname + location.search) return;
  history.pushState(null, '', href);
  for (const s of subscribers) s();
}

/** The current location (path and query); re-renders on navigation and Back/Forward. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    subscribers.add(update);
    addEventListener('popstate', update);
    return () => {
      subscribers.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Intercepts clicks on same-origin links (plain left clicks only) so they navigate in place. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const link = (event.target as Element).closest('a');
    if (!link || link.target || link.origin !== location.origin || link.hasAttribute('download')) return;
    event.preventDefault();
    navigate(link.pathname + link.search);
  });
}
