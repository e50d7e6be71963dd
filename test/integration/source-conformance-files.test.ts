import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesSource } from '../../src/sources/index.js';
import { runSourceConformance } from '../support/source-conformance.js';

/**
 * The files source (the drop folder): each `send` is one NDJSON file, written under a temporary
 * name and renamed into the folder, as a producer must; a restart is a new source on the same folder.
 */
runSourceConformance('files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-drop-'));
  let file = 0;
  return {
    createSource: () => new FilesSource({ dir, stableMs: 50, pollMs: 25, batchEvents: 500 }),
    async send(lines) {
      const path = join(dir, `batch-${process.pid}-${(file += 1)}.ndjson`);
      writeFileSync(`${path}.part`, `${lines.join('\n')}\n`);
      renameSync(`${path}.part`, path);
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
