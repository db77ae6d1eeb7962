// Authenticated writes for the benchmark, each with a unique title and slug
// (autocannon's CLI id replacement breaks Content-Length), in its own process.
// argv: url token connections seconds prefix
import autocannon from 'autocannon';

const [url, token, connections, seconds, prefix] = process.argv.slice(2);
let n = 0;
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      setupRequest: (req) => {
        n += 1;
        return {
          ...req,
          body: JSON.stringify({
            title: `Bench write ${prefix} ${n}`,
            slug: `${prefix}-${process.pid}-${n}`,
            body: 'A **benchmark** post.',
            status: 'published',
            tags: ['bench'],
          }),
        };
      },
    },
  ],
});
process.stdout.write(JSON.stringify(result));
