import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, setSite } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';

const DAY = 86_400_000;

// The nightly purge runs at 03:17 in the site's time zone as it is now (site settings),
// not in the zone the schedule was registered with: a change applies without a restart.
eachDatabase("nightly tasks follow a change of the site's time zone", (dialect) => {
  let t: TestApp;
  let now = new Date('2026-12-01T06:01:00Z');
  const clock = { now: () => now };
  let token: string;

  before(async () => {
    t = await buildTestApp(dialect, { clock });
    token = await buildToken(t, await buildUser(t, { role: 'author' }));
    await setSite(t, { timeZone: 'America/New_York' });
  });
  after(() => t.close());

  // A post trashed 31 days before now: due for the purge.
  async function oldTrash(title: string): Promise<number> {
    const id = (await apiRequest(t.app, 'POST', '/api/v1/posts', { token, body: { title, body: 'x', status: 'published' } })).json().id;
    const today = now;
    now = new Date(today.getTime() - 31 * DAY);
    assert.equal((await apiRequest(t.app, 'DELETE', `/api/v1/posts/${id}`, { token })).statusCode, 204);
    now = today;
    return id;
  }
  const exists = async (id: number) => (await t.db.kysely.selectFrom('posts').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  const tickAt = async (iso: string) => {
    now = new Date(iso);
    await t.scheduler.tick();
  };

  test('03:17 in New York, then in Tokyo once the zone changes; once per local day', async () => {
    const first = await oldTrash('Purged in Tokyo');
    await tickAt('2026-12-01T06:01:00Z'); // the schedules' first look
    await tickAt('2026-12-01T06:06:00Z'); // 01:06 in New York: not yet
    assert.ok(await exists(first));

    await setSite(t, { timeZone: 'Asia/Tokyo' });
    await tickAt('2026-12-01T06:11:00Z'); // 15:11 on 1 December in Tokyo: past 03:17
    assert.equal(await exists(first), false, 'purged at the next check after the change');

    const second = await oldTrash('Waits for the next Tokyo night');
    await tickAt('2026-12-01T10:01:00Z'); // 19:01, the same Tokyo day: done already
    assert.ok(await exists(second));
    await tickAt('2026-12-01T18:06:00Z'); // 03:06 on 2 December in Tokyo: not yet
    assert.ok(await exists(second));
    await tickAt('2026-12-01T18:21:00Z'); // 03:21 on 2 December in Tokyo
    assert.equal(await exists(second), false);
  });
});
