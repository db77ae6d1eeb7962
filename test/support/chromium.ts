import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests are skipped, or false: they are skipped only when asked to. */
export const skipBrowser = process.env.INKWELL_SKIP_BROWSER === '1' ? 'INKWELL_SKIP_BROWSER=1 is set, so the browser tests do not run' : false;

/** Debian's Chromium, headless; a missing browser fails loudly rather than skipping. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing; the browser tests need Debian's Chromium. Install it with: apt-get install -y chromium ` +
        '(or set INKWELL_SKIP_BROWSER=1 to skip these tests)',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No background networking: this machine's network is closed, and tests stay on loopback.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
