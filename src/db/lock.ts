// In the embedded mode only one process may open the PGlite data folder. The
// holder writes liuke.lock there (pid, and for a server its URL and a local
// token); anyone else is told plainly who holds it, or goes through that server.
import { rmSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
  /** Set once a server is listening: CLI commands can go through it. */
  serverUrl?: string;
  /** A per-start token that lets local CLI commands call that server (file is mode 0600). */
  localToken?: string;
}

export class StoreInUseError extends Error {
  readonly holder: LockInfo;
  constructor(dataDir: string, holder: LockInfo) {
    const who = holder.serverUrl
      ? `a Liuke server (pid ${holder.pid}) at ${holder.serverUrl}`
      : `another Liuke process (pid ${holder.pid}, "${holder.command}")`;
    super(
      `the embedded store in ${dataDir} is in use by ${who}. Only one process can open it at a time: ` +
        'stop that process first, or run against a PostgreSQL server with DATABASE_URL.',
    );
    this.holder = holder;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockPath(dataDir: string): string {
  return join(dataDir, 'liuke.lock');
}

/** Who holds the folder now, if anyone alive does. */
export async function readLock(dataDir: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await readFile(lockPath(dataDir), 'utf8')) as LockInfo;
    return alive(info.pid) && info.pid !== process.pid ? info : null;
  } catch {
    return null;
  }
}

export interface HeldLock {
  update(extra: Partial<LockInfo>): Promise<void>;
  release(): Promise<void>;
}

export async function acquireLock(dataDir: string, command: string): Promise<HeldLock> {
  await mkdir(dataDir, { recursive: true });
  const path = lockPath(dataDir);
  let info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(JSON.stringify(info));
      await fh.close();
      let released = false;
      const onExit = () => {
        if (!released) {
          // best effort on abrupt exit; a stale lock is detected by its dead pid anyway
          rmSync(path, { force: true });
        }
      };
      process.once('exit', onExit);
      return {
        async update(extra) {
          info = { ...info, ...extra };
          await writeFile(path, JSON.stringify(info), { mode: 0o600 });
        },
        async release() {
          released = true;
          process.off('exit', onExit);
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readLock(dataDir);
      if (holder) throw new StoreInUseError(dataDir, holder);
      await rm(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${path}`);
}
