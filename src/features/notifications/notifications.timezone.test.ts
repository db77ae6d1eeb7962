import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTestApp, eachDatabase, type TestApp } from '../../../test/support/app.ts';
import { buildToken, buildUser, setSite } from '../../../test/support/factories.ts';
import { apiRequest } from '../../../test/support/request.ts';
import { notificationOwnersOn } from '../../../test/support/owners.ts';
import { createSite } from '../../platform/site.ts';
import { createNotificationsService } from './notifications.service.ts';

eachDatabase("the daily digest follows the site's time zone and name", (dialect) => {
  let t: TestApp;
  let now = new Date('2026-11-23T12:00:00Z');
  const clock = { now: () => now };

  before(async () => {
    t = await buildTestApp(dialect, { clock, env: { SITE_URL: 'http://blog.test' } });
  });
  after(() => t.close());

  test("08:00 in the site's time zone, once per local day, named after the blog as it is now", async () => {
    const cat = await buildUser(t, { role: 'author' });
    const catToken = await buildToken(t, cat);
    const bobToken = await buildToken(t, await buildUser(t, { role: 'reader' }));
    await apiRequest(t.app, 'PUT', '/api/v1/me/notification-preferences', { token: catToken, body: { comment_on_post: 'daily' } });
    const post = (await apiRequest(t.app, 'POST', '/api/v1/posts', { token: catToken, body: { title: 'Tides', body: 'x', status: 'published' } })).json();
    const c = await apiRequest(t.app, 'POST', `/api/v1/posts/${post.id}/comments`, { token: bobToken, body: { body: 'Lovely tides' } });
    assert.equal(c.statusCode, 201, c.body);
    await t.queue.drain();

    await setSite(t, { timeZone: 'Asia/Tokyo', name: 'Tidewater' });
    // The schedule runs outside a request, on a site object that has not seen the change yet.
    const site = createSite({ db: t.db, url: 'http://blog.test' });
    const ns = createNotificationsService({ db: t.db.kysely, clock, mailer: t.mailer, site, owners: notificationOwnersOn(t.db.kysely, clock) });
    now = new Date('2026-11-23T22:30:00Z'); // 07:30 on the 24th in Tokyo (and long past 08:00 UTC)
    assert.equal(await ns.sendDigests(), 0, 'not before 08:00 in Tokyo');
    now = new Date('2026-11-23T23:05:00Z'); // 08:05 in Tokyo
    assert.equal(await ns.sendDigests(), 1);
    now = new Date('2026-11-24T08:05:00Z'); // 17:05 the same Tokyo day
    assert.equal(await ns.sendDigests(), 0, 'once per day of the site');
    const mail = await t.db.kysely.selectFrom('mail_outbox').select('subject').where('to_address', '=', cat.email).execute();
    assert.ok(
      mail.some((m) => /on Tidewater$/.test(m.subject)),
      mail.map((m) => m.subject).join(' | '),
    );
  });
});
