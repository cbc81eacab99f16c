import type { Plugin } from 'esbuild';
/** The parser's source with each character-by-character text loop replaced; the number replaced. */
export function patchXmlText(source: string): { source: string; count: number };
export const sdkXmlTextPatch: Plugin;
