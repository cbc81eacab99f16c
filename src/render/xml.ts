/**
 * Just enough XML writing for JUnit reports (and the HTML inside Markdown summaries): escaping
 * that keeps any input well-formed, including the control characters XML 1.0 cannot represent
 * at all (they would make CI's parser reject the whole report, so they are shown as `\uXXXX`
 * text instead). The one escaper of podid's renderers.
 */

// C0 controls except tab, LF, CR; the two noncharacters; lone surrogates (the `u` flag matches
// only unpaired ones, so astral characters such as emoji pass through intact).
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/gu;

function visible(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\uFFFD';
  return `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Text content. `]]>` needs no care here: `>` is always escaped. */
export function escapeText(s: string): string {
  return s.replace(NOT_XML, visible).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value in double quotes; tabs and newlines as character references so parsers keep them. */
export function escapeAttr(s: string): string {
  return escapeText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

export type Attrs = Readonly<Record<string, string | number>>;

export function attrs(a: Attrs): string {
  return Object.entries(a).map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`).join('');
}
