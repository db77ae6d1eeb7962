import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SaxesParser } from 'saxes';
import { el, firstNonXmlChar, nonXmlCharProblem, xmlDocument } from './xml.ts';

/** What a strict, namespace-aware parser reads: the root's attributes and text. */
function read(xml: string): { attrs: Record<string, string>; text: string } {
  const parser = new SaxesParser({ xmlns: true });
  const out = { attrs: {} as Record<string, string>, text: '' };
  parser.on('opentag', (tag) => {
    if (tag.name === 'root') for (const [k, a] of Object.entries(tag.attributes)) out.attrs[k] = a.value;
  });
  parser.on('text', (t) => {
    out.text += t;
  });
  parser.write(xml).close();
  return out;
}

test('text and attributes round-trip through a strict parser, forbidden characters dropped', () => {
  const hostile = 'a<b>&c "d" \'e\' ]]> \t\n\r tab-nl-cr \u0007\u000c\uFFFE\uFFFF\uDFFF\uD800 🎉 \u202E';
  const { attrs, text } = read(xmlDocument(el('root', { label: hostile }, hostile)));
  const expected = 'a<b>&c "d" \'e\' ]]> \t\n\r tab-nl-cr  🎉 \u202E';
  assert.equal(attrs.label, expected, 'attribute value, whitespace kept exactly');
  assert.equal(text.trim(), expected.replace('\r', '\n'), 'text (a parser reads a bare CR as a newline)');
});

test('the input check names the first forbidden character; tab, newline and CR pass', () => {
  assert.equal(firstNonXmlChar('ok\t\n\r text 🎉'), null);
  assert.equal(nonXmlCharProblem('fine\r\n'), null);
  assert.match(nonXmlCharProblem('x\u0007')!, /U\+0007/);
  assert.match(nonXmlCharProblem('x\uFFFE')!, /U\+FFFE/);
  assert.match(nonXmlCharProblem('lone \uDC00')!, /U\+DC00/);
  assert.equal(nonXmlCharProblem('pair \uD83C\uDF89'), null, 'a surrogate pair is one character');
});
