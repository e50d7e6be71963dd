// Copies the non-TypeScript assets that the code loads at run time (contracts, SQL models,
// catalogue and model tests) next to the compiled files, so dist/ is self-contained.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';

const ASSET_EXTENSIONS = new Set(['.json', '.sql', '.yaml', '.yml', '.csv', '.ndjson']);

function copyAssets(from, to) {
  if (!existsSync(from)) return;
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    const target = join(to, name);
    if (statSync(source).isDirectory()) copyAssets(source, target);
    else if (ASSET_EXTENSIONS.has(extname(name))) cpSync(source, target);
  }
}

copyAssets('src', join('dist', 'src'));
copyAssets(join('test', 'fixtures'), join('dist', 'test', 'fixtures'));
