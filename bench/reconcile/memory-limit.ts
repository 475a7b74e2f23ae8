import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../lib/paths.js';
import { quantityBytes } from '../../test/support/memory-cgroup.js';

/**
 * How the chart runs the controller, as far as memory goes: its container's memory limit
 * (`controller.resources.limits.memory`, bytes) and its Node options (`controller.nodeOptions`).
 */
export async function chartController(): Promise<{ memoryLimit: number; nodeOptions: string[] }> {
  const values = parse(await readFile(path.join(packageRoot(), 'charts', 'trellis', 'values.yaml'), 'utf8')) as {
    controller?: { nodeOptions?: string; resources?: { limits?: { memory?: string } } };
  };
  const limit = values.controller?.resources?.limits?.memory;
  if (!limit) throw new Error('charts/trellis/values.yaml sets no controller.resources.limits.memory');
  return {
    memoryLimit: quantityBytes(limit),
    nodeOptions: (values.controller?.nodeOptions ?? '').split(' ').filter(Boolean),
  };
}
