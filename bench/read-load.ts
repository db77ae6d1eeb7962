// GET load in its own process. argv: url connections seconds [options JSON]
// options: { unique?: boolean (default true), headers?: Record<string, string> }
// unique: each request asks for a URL not asked before (an ignored query
// parameter), so the response cache cannot answer and every one runs the real
// path: queries, rendering, ETag.
import autocannon from 'autocannon';

const [url, connections, seconds, json] = process.argv.slice(2);
const opts: { unique?: boolean; headers?: Record<string, string> } = json ? JSON.parse(json) : {};
const unique = opts.unique ?? true;
let n = 0;
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  headers: opts.headers,
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => {
        if (!unique) return req;
        n += 1;
        return { ...req, path: `${req.path}${req.path!.includes('?') ? '&' : '?'}uncached=${process.pid}-${n}` };
      },
    },
  ],
});
process.stdout.write(JSON.stringify(result));
