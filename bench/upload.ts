// The upload scenario of `npm run bench -- --only upload [--uploads 8] [--concurrency 8]`:
// Inkwell started as `npm start` does, N uploads of a camera-sized JPEG (4000×3000,
// with EXIF) through POST /api/v1/media, C at a time. Reports uploads per second,
// the answer times, the time until every variant exists, and the server's peak RSS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export interface UploadBenchOptions {
  root: string;
  tmp: string;
  dbUrl: string;
  token: string;
  uploads: number;
  concurrency: number;
  freePort(): Promise<number>;
  rssMb(pid: number, field?: 'VmRSS' | 'VmHWM'): number;
}

/** A photo-like 4000×3000 JPEG: smooth gradients with grain (so it compresses like a photo, not a flat test card), and camera EXIF. */
export async function cameraJpeg(): Promise<Buffer> {
  const w = 4000;
  const h = 3000;
  const sky = await sharp({ create: { width: w, height: h, channels: 3, background: '#6a8fb5' } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${w}" height="${h}"><defs><linearGradient id="g" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="#9cc3e6"/><stop offset="0.55" stop-color="#e8c590"/><stop offset="0.6" stop-color="#3d5a3a"/><stop offset="1" stop-color="#1e2b1c"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`,
        ),
      },
    ])
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Sensor-like grain: noise, softened a little as a lens and demosaicing do.
  const grain = await sharp({ create: { width: w, height: h, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
    .blur(0.6)
    .raw()
    .toBuffer();
  const px = sky.data;
  for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, px[i] + grain[i] - 128));
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .withExif({ IFD0: { Make: 'Bench', Model: 'Camera 4000', Copyright: 'Inkwell bench' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .jpeg({ quality: 88 })
    .toBuffer();
}

export async function uploadBench(o: UploadBenchOptions): Promise<{ md: string; failed: boolean }> {
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const photo = await cameraJpeg();
  const port = await o.freePort();
  const base = `http://127.0.0.1:${port}`;
  const startArgs = (JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/).slice(1);
  const server = spawn(process.execPath, startArgs, {
    cwd: o.root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: o.dbUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SITE_URL: base,
      MEDIA_DIR: join(o.tmp, 'media'),
      NODE_COMPILE_CACHE: join(o.tmp, 'compile-cache'),
    },
  });
  try {
    for (let i = 0; ; i++) {
      if (i > 2000) throw new Error('Inkwell did not start');
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const idleRssMb = o.rssMb(server.pid!);
    let peak = idleRssMb;
    const sampler = setInterval(() => {
      peak = Math.max(peak, o.rssMb(server.pid!) || 0);
    }, 100);

    const auth = { authorization: `Bearer ${o.token}` };
    const latencies: number[] = [];
    const ids: string[] = [];
    let failures = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.uploads) {
          const n = next++;
          const fd = new FormData();
          fd.append('alt', `Bench photo ${n}`);
          fd.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), `photo-${n}.jpg`);
          const t0 = performance.now();
          const res = await fetch(`${base}/api/v1/media`, { method: 'POST', headers: auth, body: fd });
          latencies.push(performance.now() - t0);
          if (res.status === 201) ids.push(((await res.json()) as { id: string }).id);
          else {
            failures++;
            console.error(`upload ${n}: ${res.status} ${await res.text()}`);
          }
        }
      }),
    );
    const answeredMs = performance.now() - started;
    const peakWhileUploading = peak;

    // The variants are background jobs: poll until every image says they are ready.
    const pending = new Set(ids);
    while (pending.size) {
      for (const id of [...pending]) {
        const m = (await (await fetch(`${base}/api/v1/media/${id}`, { headers: auth })).json()) as { variantsReady: boolean };
        if (m.variantsReady) pending.delete(id);
      }
      if (pending.size) await new Promise((r) => setTimeout(r, 250));
    }
    const variantsMs = performance.now() - started;
    clearInterval(sampler);
    const hwm = o.rssMb(server.pid!, 'VmHWM');
    const variantsEach = ids.length
      ? ((await (await fetch(`${base}/api/v1/media/${ids[0]}`, { headers: auth })).json()) as { variants: unknown[] }).variants.length
      : 0;

    latencies.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()}; load average before the run ${loadBefore}, after it ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
    const md = [
      `Inkwell upload benchmark, ${new Date().toISOString().slice(0, 10)}: ${o.uploads} uploads of a 4000×3000 JPEG (${(photo.length / 1024 / 1024).toFixed(1)} MB, with EXIF), ${o.concurrency} at a time, WORKERS=${process.env.WORKERS ?? '1'} (the default).`,
      `Machine: ${machine}.`,
      '',
      '| Measure | Value |',
      '|---|---:|',
      `| Uploads per second (all answered) | ${((ids.length / answeredMs) * 1000).toFixed(2)} |`,
      `| Upload answer p50 / p99 / max, ms | ${pct(50)} / ${pct(99)} / ${Math.round(latencies[latencies.length - 1])} |`,
      `| Time until every variant exists (${variantsEach} per image), s | ${(variantsMs / 1000).toFixed(1)} |`,
      `| Variants per second | ${((ids.length * variantsEach) / (variantsMs / 1000)).toFixed(2)} |`,
      `| Server RSS idle / peak while uploading / peak overall (VmHWM), MB | ${idleRssMb} / ${peakWhileUploading} / ${hwm} |`,
      `| Failed uploads | ${failures} |`,
      '',
    ].join('\n');
    return { md, failed: failures > 0 };
  } finally {
    await new Promise((r) => {
      server.once('exit', r);
      server.kill('SIGTERM');
    });
  }
}
