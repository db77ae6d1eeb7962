// The ceiling: a bare node:http server answering fixed bytes from memory: the body
// and the headers Inkwell sent for the same URL (the load generator's work per
// answer grows with the headers too, so the ceiling sends the same ones).
// argv: port, then triples of <path> <body file> <headers file (JSON)>.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [port, ...rest] = process.argv.slice(2);
const routes = new Map<string, { body: Buffer; headers: Record<string, string> }>();
for (let i = 0; i + 2 < rest.length; i += 3) {
  routes.set(rest[i], { body: readFileSync(rest[i + 1]), headers: JSON.parse(readFileSync(rest[i + 2], 'utf8')) });
}
http
  .createServer((req, res) => {
    const r = routes.get(req.url ?? '');
    if (!r) return void res.writeHead(404).end();
    res.writeHead(200, { ...r.headers, 'content-length': r.body.length });
    res.end(r.body);
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
