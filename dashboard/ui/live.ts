/**
 * Live updates: one EventSource on `/live` for the whole page. The server sends a `change` message per
 * watched change; pages say which changes concern them and fetch again (no polling loop). A dropped
 * stream is reported to the page (the banner) and EventSource reconnects by itself; on reconnect every
 * page fetches again, for what changed meanwhile.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Change } from './types.js';

type Listener = (change: Change | 'reconnected') => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<(connected: boolean | undefined) => void>();
let source: EventSource | undefined;
let connected: boolean | undefined;
let lost = false;

function setConnected(value: boolean): void {
  connected = value;
  document.body.dataset.connected = String(value);
  for (const l of statusListeners) l(value);
}

function open(): void {
  if (source) return;
  source = new EventSource('/live');
  source.addEventListener('open', () => {
    setConnected(true);
    if (lost) for (const l of listeners) l('reconnected');
    lost = false;
  });
  source.addEventListener('error', () => {
    lost = true;
    setConnected(false);
  });
  source.addEventListener('change', (message) => {
    let change: Change;
    try {
      change = JSON.parse((message as MessageEvent<string>).data) as Change;
    } catch {
      return;
    }
    for (const l of listeners) l(change);
  });
}

/** Whether the live stream is up (`undefined` before its first answer). */
export function useConnection(): boolean | undefined {
  const [state, setState] = useState(connected);
  useEffect(() => {
    open();
    statusListeners.add(setState);
    setState(connected);
    return () => void statusListeners.delete(setState);
  }, []);
  return state;
}

/**
 * Calls `onChange` (once per 200 ms burst) when a change `concerns` the caller, and after the stream
 * reconnects. The latest callbacks are used; subscribing happens once per mount.
 */
export function useLive(concerns: (change: Change) => boolean, onChange: () => void): void {
  const latest = useRef({ concerns, onChange });
  latest.current = { concerns, onChange };
  useEffect(() => {
    open();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const listener: Listener = (change) => {
      if (timer || (change !== 'reconnected' && !latest.current.concerns(change))) return;
      timer = setTimeout(() => {
        timer = undefined;
        latest.current.onChange();
      }, 200);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (timer) clearTimeout(timer);
    };
  }, []);
}
