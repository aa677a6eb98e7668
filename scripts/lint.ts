// Runs Biome's linter. We depend on Biome's linux-x64 binary package directly
// (optional): the @biomejs/biome wrapper lists platform packages this project's
// registry does not serve, which makes `npm ci` reject the lockfile.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const bin = new URL('../node_modules/@biomejs/cli-linux-x64/biome', import.meta.url).pathname;
if (!existsSync(bin)) {
  console.error(`lint: Biome's binary for ${process.platform}-${process.arch} is not installed; lint runs on linux-x64 (CI)`);
  process.exit(process.platform === 'linux' && process.arch === 'x64' ? 1 : 0);
}
const r = spawnSync(bin, ['lint', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
