/**
 * Bytes to text the way podid reads every YAML file it is given: `--manifests` inputs and the
 * `.podid.yaml` config. Kept apart from the parsers so that reading a config does not load them.
 */

/**
 * Text from bytes by byte-order mark: UTF-8, UTF-16 LE or BE (what Windows editors and
 * PowerShell's `>` write). Without a BOM the bytes must be UTF-8 with no NUL; anything else
 * is not text, and is refused rather than read as nothing or as a misleading parse error: a
 * UTF-32 BOM (whose first two bytes are UTF-16 LE's), and text that still holds NUL characters
 * once decoded (UTF-16 saved behind a UTF-8 BOM, a BOM that does not match the encoding). Each
 * reason is one line.
 */
export function decodeText(bytes: Uint8Array): { text: string } | { binary: string } {
  const b = bytes;
  const starts = (...bom: number[]) => b.length >= bom.length && bom.every((x, i) => b[i] === x);
  // Before UTF-16 LE: FF FE 00 00 is UTF-32 LE's mark.
  if (starts(0xff, 0xfe, 0, 0)) return { binary: 'it starts with a UTF-32 LE byte-order mark: UTF-32 is not supported' };
  if (starts(0, 0, 0xfe, 0xff)) return { binary: 'it starts with a UTF-32 BE byte-order mark: UTF-32 is not supported' };
  const byBom = starts(0xef, 0xbb, 0xbf)
    ? { encoding: 'UTF-8', decoded: utf8(b.subarray(3), 'after its UTF-8 byte-order mark, it is not valid UTF-8 (another encoding behind that mark?)') }
    : starts(0xff, 0xfe)
      ? { encoding: 'UTF-16 LE', decoded: { text: new TextDecoder('utf-16le').decode(b.subarray(2)) } }
      : starts(0xfe, 0xff)
        ? { encoding: 'UTF-16 BE', decoded: { text: new TextDecoder('utf-16be').decode(b.subarray(2)) } }
        : null;
  if (byBom === null) {
    if (b.includes(0)) return { binary: 'it contains NUL bytes: binary, or UTF-16 without a byte-order mark' };
    return utf8(b);
  }
  const { encoding, decoded } = byBom;
  if ('text' in decoded && decoded.text.includes('\0')) {
    return { binary: `decoded as ${encoding} (by its byte-order mark), its text contains NUL characters: not text (another encoding behind that mark, such as UTF-16 saved after a UTF-8 one?)` };
  }
  return decoded;
}

function utf8(b: Uint8Array, invalid = 'it is not valid UTF-8 (nor UTF-16 with a byte-order mark)'): { text: string } | { binary: string } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b) };
  } catch {
    return { binary: invalid };
  }
}
