/**
 * scripts/sdk-patches.mjs: the build's patch of @aws-sdk/xml-builder's XML parser changes its
 * speed only. The parser's source as installed and as patched parse generated documents and a
 * GetAccountAuthorizationDetails page (test/fixtures/iam-gaad-page.xml: captured from `podid
 * sandbox` serving bench/generate-world.mjs, MaxItems 6) to the same values, and fail alike.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchXmlText } from '../../scripts/sdk-patches.mjs';

const require = createRequire(import.meta.url);
const PARSER = join(dirname(require.resolve('@aws-sdk/xml-builder/package.json')), 'dist-es/xml-parser.js');
const original = readFileSync(PARSER, 'utf8');

/** The parser module's parseXML, from its source (it imports nothing). */
function load(source: string): (xml: string) => unknown {
  return new Function(`${source.replace('export function parseXML', 'function parseXML')}\nreturn parseXML;`)() as (xml: string) => unknown;
}

const before = load(original);
const patched = patchXmlText(original);
const after = load(patched.source);

function outcome(parse: (xml: string) => unknown, xml: string): unknown {
  try {
    return { value: parse(xml) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('the @aws-sdk/xml-builder text patch', () => {
  it('replaces the character-by-character text loop, as in the built bundle', () => {
    expect(patched.count).toBe(1);
    expect(patched.source).not.toContain('text += p.x[p.i++]');
    // Every other line is the installed one.
    expect(original.split('\n').length - patched.source.split('\n').length).toBe(3);
  });

  it('parses a GetAccountAuthorizationDetails page to the same value', () => {
    const xml = readFileSync(new URL('../fixtures/iam-gaad-page.xml', import.meta.url), 'utf8');
    const value = after(xml) as { GetAccountAuthorizationDetailsResponse: { GetAccountAuthorizationDetailsResult: { RoleDetailList: { member: unknown[] } } } };
    expect(value.GetAccountAuthorizationDetailsResponse.GetAccountAuthorizationDetailsResult.RoleDetailList.member).toHaveLength(6);
    expect(value).toStrictEqual(before(xml));
  });

  it('parses generated documents, well-formed or not, as the installed parser does', () => {
    const text = fc.stringMatching(/^[^<]{0,40}$/).map((s) => s.replace(/&(?!amp;|lt;|gt;|quot;|#\d+;)/g, '&amp;'));
    const name = fc.constantFrom('a', 'Member', 'x-y', 'RoleName', '__proto__');
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, text, tie('element')),
      element: fc.tuple(name, fc.array(tie('node'), { maxLength: 4 }), fc.boolean()).map(([n, children, cdata]) =>
        `<${n}>${cdata ? '<![CDATA[c<d]]>' : ''}${(children as string[]).join('')}</${n}>`,
      ),
    }));
    const document = fc.tuple(fc.constantFrom('', '<?xml version="1.0"?>\n', '<!-- c -->'), node, fc.constantFrom('', ' ', '\r\n', 'trailing'));
    fc.assert(
      fc.property(document, fc.nat(), fc.boolean(), ([head, body, tail], cut, truncate) => {
        let xml = `${head}<Root>${body as string}</Root>${tail}`;
        if (truncate) xml = xml.slice(0, cut % (xml.length + 1));
        expect(outcome(after, xml)).toStrictEqual(outcome(before, xml));
      }),
      { numRuns: 500 },
    );
  });
});
