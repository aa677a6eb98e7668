// Configuration, parsed once from the environment against a schema. A bad
// value stops start-up with a message naming the variable.
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

const ConfigSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  LIUKE_DATA_DIR: Type.String({ minLength: 1, default: './liuke-data' }),
  LIUKE_HOST: Type.String({ default: '127.0.0.1' }),
  LIUKE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3710 }),
  LIUKE_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  /** Largest accepted HTTP body for ingestion, bytes (Segment's own limit is 500 KB per batch). */
  LIUKE_MAX_BODY_BYTES: Type.Integer({ minimum: 1024, default: 512 * 1024 }),
  /** Largest accepted upload for imports, bytes. */
  LIUKE_MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1024, default: 2 * 1024 * 1024 * 1024 }),
  /** Customers in the demo business loaded on a first start with an empty store. */
  LIUKE_DEMO_CUSTOMERS: Type.Integer({ minimum: 0, default: 2000 }),
  /** Secret for signed links and session cookies; generated into the data folder when unset. */
  LIUKE_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /** How long a browser session lasts without activity, hours (it slides forward while used). */
  LIUKE_SESSION_TTL_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 90, default: 24 * 7 }),
  /** Secure flag on the session cookie: auto = when the request came over HTTPS. */
  LIUKE_COOKIE_SECURE: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], { default: 'auto' }),
  /**
   * Transactions at once for the daily figures and scoring passes on a server (unset: both
   * in 2 from 200,000 customers; 1: never shard). Read where the passes run (analyticsShards).
   */
  LIUKE_ANALYTICS_SHARDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
});

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const INTEGER_KEYS = new Set(['LIUKE_PORT', 'LIUKE_MAX_BODY_BYTES', 'LIUKE_MAX_UPLOAD_BYTES', 'LIUKE_DEMO_CUSTOMERS', 'LIUKE_SESSION_TTL_HOURS', 'LIUKE_ANALYTICS_SHARDS']);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v === undefined || v === '') continue;
    raw[key] = INTEGER_KEYS.has(key) && /^-?\d+$/.test(v) ? Number(v) : v;
  }
  const withDefaults = Value.Default(ConfigSchema, raw);
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const e = errors[0]!;
    const key = e.instancePath.replace(/^\//, '') || String((e.params as { requiredProperties?: string[] }).requiredProperties?.[0] ?? '');
    throw new ConfigError(`environment variable ${key} is invalid: ${e.message} (got ${JSON.stringify(env[key])})`);
  }
  return withDefaults as Config;
}
