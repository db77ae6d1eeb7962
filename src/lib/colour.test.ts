import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contrast, readableOn } from './colour.ts';

const LIGHT = ['#fdfdfc', '#f3f2ef'];
const DARK = ['#16171b', '#202228'];

test('contrast follows WCAG: black on white is 21, a colour on itself is 1', () => {
  assert.equal(Math.round(contrast('#000000', '#ffffff')), 21);
  assert.equal(contrast('#2451b7', '#2451b7'), 1);
});

test('an accent that already reads well is kept; a pale or dark one is moved until it reads on every background', () => {
  assert.equal(readableOn('#2451b7', LIGHT), '#2451b7');
  for (const accent of ['#ffcc00', '#7fd1ff', '#2451b7', '#101010', '#ff0000', '#aa3300']) {
    const light = readableOn(accent, LIGHT);
    const dark = readableOn(accent, DARK);
    for (const bg of LIGHT) assert.ok(contrast(light, bg) >= 4.5, `${accent} -> ${light} on ${bg}`);
    for (const bg of DARK) assert.ok(contrast(dark, bg) >= 4.5, `${accent} -> ${dark} on ${bg}`);
  }
  assert.notEqual(readableOn('#ffcc00', LIGHT), '#ffcc00', 'yellow is darkened for light backgrounds');
});
