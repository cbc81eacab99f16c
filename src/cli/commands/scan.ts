/**
 * `podid scan`: inventory and migration readiness, live (kubeconfig contexts + AWS) or offline
 * from manifests, rendered in one of the output formats, optionally as a CI gate.
 */
import { ExitCode } from '../../core/errors.js';
import type { Inventory } from '../../core/scan/inventory.js';
import type { ScanFormat } from '../../render/scan.js';
import { createIo } from '../io.js';
import { runLiveScan, type TargetFlags } from '../live-scan.js';
import { VERSION } from '../version.js';

export interface ScanCliOptions extends TargetFlags {
  output: ScanFormat;
  failOn: 'irsa' | 'blocked' | 'warnings' | 'never';
  manifests?: string[];
  config?: string;
  color?: boolean;
}

export const INFORMATION_URI = 'https://github.com/podid/podid';

export async function runScan(opts: ScanCliOptions): Promise<number> {
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) });
  let inventory: Inventory;
  try {
    inventory = (await runLiveScan(opts, io)).inventory;
  } finally {
    io.done();
  }
  const { renderScan } = await import('../../render/scan.js');
  io.out(renderScan(inventory, opts.output, { palette: io.palette, sarif: { informationUri: INFORMATION_URI, toolVersion: VERSION } }));
  return ExitCode.ok;
}
