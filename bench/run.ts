// npm run bench [-- name …]: runs bench/<name>.bench.ts one after another (all
// when no name is given), each in its own process on the pinned Node, and
// prints what they measured. Copy the figures into bench/RESULTS.md with the
// machine they came from (`npm run bench -- --machine` prints it).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';

const args = process.argv.slice(2);
if (args.includes('--machine')) {
  console.log(`${os.cpus().length} × ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`);
  process.exit(0);
}
const all = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.bench.ts')).sort();
const chosen = args.length ? all.filter((f) => args.some((a) => f.startsWith(a))) : all;
if (chosen.length === 0) {
  console.error(`no benchmark matches ${args.join(' ')}; there are: ${all.join(', ') || 'none'}`);
  process.exit(1);
}
let failed = 0;
for (const f of chosen) {
  console.log(`\n## ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', new URL(f, import.meta.url).pathname], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
