// The auditors' web page: three static files beside this module (page/), read once. `make build` copies
// them to dist/ next to the compiled module.
import { readFileSync } from 'node:fs';

export interface PageAsset {
  path: string;
  type: string;
  body: Buffer;
}

let cached: PageAsset[] | undefined;

export function pageAssets(): PageAsset[] {
  cached ??= [
    { path: '/audit/', file: 'index.html', type: 'text/html; charset=utf-8' },
    { path: '/audit/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
    { path: '/audit/app.css', file: 'app.css', type: 'text/css; charset=utf-8' },
  ].map(({ path, file, type }) => ({
    path,
    type,
    body: readFileSync(new URL(`./page/${file}`, import.meta.url)),
  }));
  return cached;
}
