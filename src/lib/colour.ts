// The site's accent colour is whatever the admin picked; text and buttons drawn in
// it must stay readable on both the light and the dark background. These helpers
// move a colour toward black or white until it reaches a contrast ratio (WCAG 2).

type Rgb = [number, number, number];

function parse(hex: string): Rgb | null {
  const m = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(hex.trim());
  if (!m) return null;
  const h = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return [0, 2, 4].map((i) => Number.parseInt(h.slice(i, i + 2), 16)) as Rgb;
}

function hex(c: Rgb): string {
  return `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

function luminance(c: Rgb): number {
  const [r, g, b] = c.map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const la = luminance(parse(a) ?? [0, 0, 0]);
  const lb = luminance(parse(b) ?? [0, 0, 0]);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * The colour, mixed step by step toward black (on light backgrounds) or white
 * (on dark ones) until it reaches `ratio` against every background given.
 * A colour that already does is returned as it is.
 */
export function readableOn(colour: string, backgrounds: string[], ratio = 4.5): string {
  const c = parse(colour) ?? [0x24, 0x51, 0xb7];
  const dark = backgrounds.every((b) => luminance(parse(b) ?? [0, 0, 0]) < 0.2);
  const target: Rgb = dark ? [255, 255, 255] : [0, 0, 0];
  for (let t = 0; t <= 1.0001; t += 0.02) {
    const mixed = hex(c.map((v, i) => v + (target[i] - v) * t) as Rgb);
    if (backgrounds.every((b) => contrast(mixed, b) >= ratio)) return mixed;
  }
  return hex(target);
}
