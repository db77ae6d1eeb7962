import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const root = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const major = (v: string) => Number(/(\d+)/.exec(v)?.[1]);

test('engines, the pinned Node and the README name the same Node: the one that runs', () => {
  const pinned = major(pkg.devDependencies.node);
  assert.equal(major(process.version), pinned, 'the tests run on the pinned Node');
  assert.match(pkg.engines.node, /^>=\d+$/);
  assert.equal(major(pkg.engines.node), pinned, 'engines asks for the Node that npm scripts run on');
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.match(readme, new RegExp(`Inkwell runs on Node ${pinned}\\b`));
  assert.doesNotMatch(readme, /only need Node \d+ or newer/);
});
