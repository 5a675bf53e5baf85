// Writes the benchmark objects as one JSON file for `tenantgate proxy --from-files`.
//   node bench/proxy/write-routes.ts DIR ROUTES LISTENER_PORT BACKEND_PORT
import fs from 'node:fs';
import path from 'node:path';
import { benchObjects } from './routes.ts';

const [dir, routes, listenerPort, backendPort] = process.argv.slice(2);
if (!dir || !routes || !listenerPort || !backendPort) {
  process.stderr.write('usage: write-routes.ts DIR ROUTES LISTENER_PORT BACKEND_PORT\n');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const objects = benchObjects({
  routes: Number(routes),
  listenerPort: Number(listenerPort),
  backendAddress: '127.0.0.1',
  backendPort: Number(backendPort),
});
fs.writeFileSync(
  path.join(dir, 'bench.json'),
  JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
);
