// What every CLI command shares: configuration, opening the store (with the
// embedded-mode lock), and turning failures into a message and a non-zero exit.
import { loadConfig, type Config } from '../config.ts';
import { acquireLock, readLock, StoreInUseError, type HeldLock, type LockInfo } from '../db/lock.ts';
import { migrate } from '../db/migrate.ts';
import { openStore, type Store } from '../db/store.ts';

/** An error the user can fix: printed without a stack trace. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Opened {
  config: Config;
  store: Store;
  lock: HeldLock | null;
  close(): Promise<void>;
}

/** Opens (and migrates) the configured store. In the embedded mode this takes the folder's lock. */
export async function openConfiguredStore(command: string, config = loadConfig()): Promise<Opened> {
  let lock: HeldLock | null = null;
  if (!config.DATABASE_URL) lock = await acquireLock(config.LIUKE_DATA_DIR, command);
  let store: Store;
  try {
    store = await openStore({ databaseUrl: config.DATABASE_URL, dataDir: config.LIUKE_DATA_DIR });
    await migrate(store);
  } catch (e) {
    await lock?.release();
    throw e;
  }
  return {
    config,
    store,
    lock,
    async close() {
      await store.close();
      await lock?.release();
    },
  };
}

/** Runs fn with the store open, closing it whatever happens. */
export async function withStore<T>(command: string, fn: (o: Opened) => Promise<T>): Promise<T> {
  const opened = await openConfiguredStore(command);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}

/**
 * The running server that holds the embedded store, if any — for commands that
 * can go through it instead of opening the folder themselves.
 */
export async function runningServer(config = loadConfig()): Promise<LockInfo | null> {
  if (config.DATABASE_URL) return null;
  const holder = await readLock(config.LIUKE_DATA_DIR);
  return holder?.serverUrl && holder.localToken ? holder : null;
}

export function reportFailure(e: unknown): number {
  if (e instanceof UserError || e instanceof StoreInUseError || (e as Error)?.name === 'ConfigError') {
    process.stderr.write(`liuke: ${(e as Error).message}\n`);
    return e instanceof UserError ? e.exitCode : 1;
  }
  const msg = (e as Error)?.message ?? String(e);
  process.stderr.write(`liuke: ${msg}\n`);
  if (process.env.LIUKE_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  else process.stderr.write('(set LIUKE_DEBUG=1 for the stack trace)\n');
  return 1;
}
