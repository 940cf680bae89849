// A tiny local webhook receiver and landing-page server for the interop run.
//
//   node receiver.mjs WORKDIR
//
// Listens on 127.0.0.1 on a free port and writes the port to WORKDIR/receiver.port.
//   POST /hooks/...            records the delivery (path, headers, exact raw body) as one JSON line
//                              in WORKDIR/deliveries.jsonl and answers 200
//   GET  /deliveries           every recorded delivery as a JSON array
//   GET  /success, /cancel, /return   small HTML landing pages (Checkout success_url/cancel_url,
//                              portal return_url) that echo their query string
//   GET  /shop?sandbox=URL     a merchant page loading the sandbox's Stripe.js stand-in (URL/v3/)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const workdir = process.argv[2];
if (!workdir) {
  console.error('usage: node receiver.mjs WORKDIR');
  process.exit(2);
}
const logFile = path.join(workdir, 'deliveries.jsonl');
const deliveries = [];

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (req.method === 'POST' && url.pathname.startsWith('/hooks/')) {
      let type = null;
      let id = null;
      try {
        const ev = JSON.parse(raw.toString('utf8'));
        type = ev.type ?? null;
        id = ev.id ?? null;
      } catch {
        // recorded anyway; the checks report a body that is not JSON
      }
      const d = {
        seq: deliveries.length,
        received_at: Date.now(),
        path: url.pathname,
        headers: req.headers,
        body_b64: raw.toString('base64'),
        type,
        id,
      };
      deliveries.push(d);
      fs.appendFileSync(logFile, JSON.stringify(d) + '\n');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"received":true}');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/deliveries') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(deliveries));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/shop') {
      // A merchant page on another origin than the sandbox, loading its Stripe.js stand-in.
      const sandbox = url.searchParams.get('sandbox') || '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title><script src="${escapeHtml(sandbox)}/v3/"></script></head><body><h1>Shop</h1><form id="payment-form"><div id="payment-element"></div></form><div id="checkout"></div></body></html>`);
      return;
    }
    const pages = { '/success': 'Payment successful', '/cancel': 'Checkout canceled', '/return': 'Back at the app' };
    if (req.method === 'GET' && pages[url.pathname]) {
      const params = [...url.searchParams].map(([k, v]) => `<li><code>${escapeHtml(k)}</code> = <code data-param="${escapeHtml(k)}">${escapeHtml(v)}</code></li>`).join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${pages[url.pathname]}</title></head><body><h1>${pages[url.pathname]}</h1><ul>${params}</ul></body></html>`);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  fs.writeFileSync(path.join(workdir, 'receiver.port.tmp'), String(port));
  fs.renameSync(path.join(workdir, 'receiver.port.tmp'), path.join(workdir, 'receiver.port'));
  console.log(`receiver listening on http://127.0.0.1:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
