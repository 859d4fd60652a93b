// A static server for tests/browser/dist with the shim's index.html fallback for client routes and a
// /harness/boot.json without data sources: enough for pages that need no backend (the flame panel fed
// through window.__tuskRenderFlame). Loopback only.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

const BOOT = JSON.stringify({
  datasources: [],
  app: { id: 'tusk-php-app', jsonData: {} },
  buildInfo: { version: '13.2.2' },
});

/** Starts the server on a free loopback port; resolves to { url, close }. */
export function serveStatic(root) {
  const index = path.join(root, 'index.html');
  if (!fs.existsSync(index)) {
    throw new Error(`${index} does not exist: run npm run build:harness first`);
  }
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (pathname === '/harness/boot.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(BOOT);
      return;
    }
    const file = path.join(root, path.normalize(decodeURIComponent(pathname)).replace(/^(\.\.[/\\])+/, ''));
    const inside = file.startsWith(root + path.sep);
    if (inside && fs.existsSync(file) && fs.statSync(file).isFile()) {
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    if (path.extname(pathname) === '') {
      res.writeHead(200, { 'Content-Type': TYPES['.html'] });
      fs.createReadStream(index).pipe(res);
      return;
    }
    res.writeHead(404).end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
