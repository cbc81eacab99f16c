// A source patch applied to one AWS SDK module when it is bundled (scripts/build.mjs), for speed
// only: the output of the patched code is identical (test/unit/sdk-patches.test.ts compares
// them on generated XML and on a real GetAccountAuthorizationDetails page).
//
// @aws-sdk/xml-builder's XML parser (used for IAM's and STS's query-protocol answers) builds each
// text node one character at a time (`text += p.x[p.i++]`). IAM's GetAccountAuthorizationDetails
// returns every role's URL-encoded trust policy as a text node of a few KB: a page of 1,000 roles
// (2.5 MB of XML) took 130-175 ms to parse cold on the bench machine, 50-90 ms with the text
// sliced out at the next '<' (the same characters: the loop stops at '<' or the end).

const TEXT_LOOP = /let text = "";\s*while \(p\.i < p\.z && p\.x\[p\.i\] !== "<"\) \{\s*text \+= p\.x\[p\.i\+\+\];\s*\}/g;
const TEXT_SLICE = 'let textEnd = p.x.indexOf("<", p.i); if (textEnd === -1) textEnd = p.z; const text = p.x.slice(p.i, textEnd); p.i = textEnd;';

/** The parser's source with each character-by-character text loop replaced; the number replaced. */
export function patchXmlText(source) {
  let count = 0;
  const patched = source.replace(TEXT_LOOP, () => {
    count++;
    return TEXT_SLICE;
  });
  return { source: patched, count };
}

/**
 * An esbuild plugin applying patchXmlText to @aws-sdk/xml-builder's builds. The build fails if
 * no loop was patched (a new SDK version changed the parser or its files: look again whether the
 * patch is still needed, then update or remove it).
 */
export const sdkXmlTextPatch = {
  name: 'aws-sdk-xml-text',
  setup(b) {
    let bundled = 0;
    let patched = 0;
    b.onStart(() => {
      bundled = 0;
      patched = 0;
    });
    b.onLoad({ filter: /[\\/]@aws-sdk[\\/]xml-builder[\\/]dist-(cjs|es)[\\/](index|xml-parser)\.js$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const { source, count } = patchXmlText(await readFile(args.path, 'utf8'));
      bundled++;
      patched += count;
      return { contents: source, loader: 'js' };
    });
    b.onEnd((result) => {
      // IAM's and STS's answers are XML: the parser is always bundled, from one of these files.
      if (patched === 0) {
        result.errors.push({ text: `@aws-sdk/xml-builder: ${bundled === 0 ? 'its parser was not bundled from the files' : 'the text loop'} scripts/sdk-patches.mjs patches ${bundled === 0 ? 'expects' : 'was not found'} (a new SDK version?): update or remove the patch` });
      }
    });
  },
};
