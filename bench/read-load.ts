// Reads that the response cache cannot answer: each request asks for a URL not
// asked before (an ignored query parameter), so every one runs the real path:
// queries, rendering, ETag. argv: url connections seconds
import autocannon from 'autocannon';

const [url, connections, seconds] = process.argv.slice(2);
let n = 0;
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'GET',
      setupRequest: (req) => {
        n += 1;
        return { ...req, path: `${req.path}${req.path!.includes('?') ? '&' : '?'}uncached=${process.pid}-${n}` };
      },
    },
  ],
});
process.stdout.write(JSON.stringify(result));
