// Test helper: a real server on a random loopback port over a test store.
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../config.ts';
import type { Store } from '../db/store.ts';
import { buildApp, type AppDeps } from './app.ts';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startTestServer(
  store: Store,
  opts: Partial<Omit<AppDeps, 'store' | 'config'>> & { env?: Record<string, string> } = {},
): Promise<TestServer> {
  const config: Config = loadConfig({ LIUKE_DATA_DIR: 'memory://', ...opts.env });
  const app = await buildApp({ ...opts, store, config });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: address, close: () => app.close() };
}
