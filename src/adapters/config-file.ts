/**
 * Reads `.podid.yaml` (or `--config PATH`) from disk; core/config.ts parses and validates it
 * (loaded only when there is a file).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, EMPTY_CONFIG, type PodidConfig } from '../core/config-defaults.js';
import { UsageError } from '../core/errors.js';
import { decodeText } from './decode-text.js';

/**
 * `--config PATH` (relative to `cwd`) must exist; without it, `.podid.yaml` in `cwd` is used when
 * present, else the empty config.
 */
export async function loadConfig(path: string | undefined, cwd: string): Promise<PodidConfig> {
  const name = path ?? DEFAULT_CONFIG_FILE;
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(cwd, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (path === undefined && code === 'ENOENT') return EMPTY_CONFIG;
    const what = code === 'ENOENT' ? 'no such file or directory' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    const flag = path === undefined ? name : `--config ${name}`;
    throw new UsageError(code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_UNREADABLE', `${flag}: ${what}`, 'pass an existing file to --config, or leave it out to use .podid.yaml when present');
  }
  // Decoded by byte-order mark as manifests are (a UTF-16 file from PowerShell's `>` is read);
  // anything else is refused in one line, never parsed into a misleading "expected a mapping".
  const decoded = decodeText(bytes);
  if ('binary' in decoded) throw new UsageError('CONFIG_INVALID', `${name}: not text: ${decoded.binary}`, 'save the file as UTF-8 (docs/ci.md describes it)');
  // The parser (and its validation library) loads only when there is a file to parse.
  const { parseConfig } = await import('../core/config.js');
  return parseConfig(decoded.text, name);
}
