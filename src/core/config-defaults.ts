/**
 * The config file's name, shape and empty default, without the parser: a scan with no
 * `.podid.yaml` never loads config.ts (and the validation library it uses).
 */
export const DEFAULT_CONFIG_FILE = '.podid.yaml';

export interface AllowlistEntry {
  /** Position in the file, for messages (`allowlist[2]`). */
  readonly index: number;
  /** Globs; an absent selector matches anything. `cluster` matches the cluster ARN or name. */
  readonly cluster?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** Manifests mode: a glob over the file a service account or input finding is in. */
  readonly file?: string;
  /** Finding codes covered; absent: every finding of the matched service accounts, and the `irsa` gate. */
  readonly codes?: readonly string[];
  readonly reason: string;
  /** Last day (UTC) the entry applies, `YYYY-MM-DD`. */
  readonly expires: string;
  /** The config file the entry is in, as podid was told it (`.podid.yaml`, `--config ci/podid.yaml`). */
  readonly config: string;
}

export interface PodidConfig {
  readonly version: 1;
  readonly allowlist: readonly AllowlistEntry[];
  /** The file it came from, or null when there was none (the empty default). */
  readonly path: string | null;
}

export const EMPTY_CONFIG: PodidConfig = { version: 1, allowlist: [], path: null };
