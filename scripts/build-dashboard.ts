/**
 * Builds the dashboard's browser side: dashboard/ui/ (Preact, TSX, style.css, index.html) → dashboard/assets/
 * (`app.js`, `app.css`, their source maps, `index.html`), which the dashboard server serves as static files.
 * One bundle, no code loaded from elsewhere at run time (the page's Content-Security-Policy allows only 'self').
 *
 * `tsx scripts/build-dashboard.ts` (part of `npm run build`).
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** @default outdir dashboard/assets of this checkout */
export async function buildDashboard(outdir = path.join(root, 'dashboard', 'assets')): Promise<void> {
  const ui = path.join(root, 'dashboard', 'ui');
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [
      { in: path.join(ui, 'main.tsx'), out: 'app' },
      { in: path.join(ui, 'style.css'), out: 'app' },
    ],
    outdir,
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    // Nothing from outside the bundle: an unresolved import fails the build rather than load at run time.
    external: [],
  });
  await copyFile(path.join(ui, 'index.html'), path.join(outdir, 'index.html'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildDashboard();
}
