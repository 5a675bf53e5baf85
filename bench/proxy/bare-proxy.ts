// Baseline (b): a bare keep-alive undici reverse proxy — node:http server, one undici Pool to the
// backend, `pool.stream()` piping the answer into the client response. No routing, no filters, no
// metrics: what any Node proxy costs before it does anything useful.
//   node bench/proxy/bare-proxy.ts LISTEN_PORT BACKEND_PORT
import http from 'node:http';
import { Pool } from 'undici';

const [listenPort, backendPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${backendPort}`, { connections: 128, pipelining: 1 });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers };
  delete headers.connection;
  delete headers['keep-alive'];
  pool
    .stream(
      {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      },
      ({ statusCode, headers: h }) => {
        delete h.connection;
        delete h['keep-alive'];
        delete h['transfer-encoding'];
        res.writeHead(statusCode, h as http.OutgoingHttpHeaders);
        return res;
      },
    )
    .catch(() => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway\n');
      else res.destroy();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(listenPort, '127.0.0.1', () =>
  process.stderr.write(`bare undici proxy on ${listenPort} -> ${backendPort}\n`),
);
process.on('SIGTERM', () => process.exit(0));
