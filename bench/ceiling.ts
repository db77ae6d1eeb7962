// The ceiling: a bare node:http server answering fixed bytes from memory.
// argv: port, then pairs of <path> <file> <content-type>.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [port, ...rest] = process.argv.slice(2);
const routes = new Map<string, { body: Buffer; type: string }>();
for (let i = 0; i + 2 < rest.length + 1; i += 3) routes.set(rest[i], { body: readFileSync(rest[i + 1]), type: rest[i + 2] });
http.createServer((req, res) => {
  const r = routes.get(req.url ?? '');
  if (!r) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': r.type, 'content-length': r.body.length });
  res.end(r.body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
