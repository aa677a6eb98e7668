// Where the public test data sets (../shared/data beside the repository) are:
// LIUKE_SHARED_DATA if set, else the shared/ folder next to this checkout, else /work/shared/data.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function sharedDataDir(): string {
  const candidates = [
    process.env.LIUKE_SHARED_DATA,
    fileURLToPath(new URL('../../../shared/data', import.meta.url)),
    '/work/shared/data',
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the shared test data is missing: looked in ${candidates.join(', ')} (set LIUKE_SHARED_DATA)`);
  return found;
}

export function cdnowFile(name: string): string {
  return `${sharedDataDir()}/cdnow/${name}`;
}
