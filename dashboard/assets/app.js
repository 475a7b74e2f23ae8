// The dashboard's only script (served from /assets, so the Content-Security-Policy allows no inline code).
// Live updates: the server pushes a `change` message per watched change (Server-Sent Events); when one
// concerns this page, the page fetches itself once and swaps <main>. No polling loop.
'use strict';

const live = document.body.dataset.live || '';
const connection = document.getElementById('connection');

function say(text, lost) {
  connection.textContent = text;
  connection.className = lost ? 'lost' : '';
}

function relevant(change) {
  if (live === 'apps') return change.kind === 'ApplicationConfiguration';
  if (live.startsWith('app:')) return change.namespace === live.slice(4).split('/')[0];
  return false;
}

function filterRows() {
  const input = document.getElementById('filter');
  if (!input) return;
  const words = input.value.trim().toLowerCase();
  for (const row of document.querySelectorAll('#apps tbody tr'))
    row.hidden = !!words && !row.dataset.search.includes(words);
}

let scheduled = false;
async function refresh() {
  scheduled = false;
  try {
    const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
    const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    const next = doc.getElementById('main');
    if (!next) throw new Error(`HTTP ${response.status}`);
    const filter = document.getElementById('filter');
    const words = filter ? filter.value : '';
    const hadFocus = filter && document.activeElement === filter;
    document.getElementById('main').replaceWith(next);
    const again = document.getElementById('filter');
    if (again) {
      again.value = words;
      if (hadFocus) again.focus();
    }
    bind();
    if (!connection.classList.contains('lost')) say('', false);
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  } catch (err) {
    say(`Could not refresh this page: ${err.message}`, true);
  }
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(refresh, 200); // one refresh for a burst of changes
}

function bind() {
  const input = document.getElementById('filter');
  if (input) input.addEventListener('input', filterRows);
  filterRows();
}

bind();
if (live) {
  const source = new EventSource('/live');
  let lost = false;
  source.addEventListener('open', () => {
    say('', false);
    if (lost) schedule(); // what changed while we were away
    lost = false;
    document.body.dataset.connected = 'true';
  });
  source.addEventListener('error', () => {
    lost = true;
    document.body.dataset.connected = 'false';
    say('Connection to the dashboard lost: what you see may be out of date. Reconnecting…', true);
  });
  source.addEventListener('change', (message) => {
    if (relevant(JSON.parse(message.data))) schedule();
  });
}
