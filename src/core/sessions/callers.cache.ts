// Verified callers (API keys and browser sessions) remembered in this process
// for a few seconds, so a burst of requests does not look up the same key or
// session in the store on every request.
//
// Trade-off: a change made by another process (`liuke keys revoke`, a second
// server, a direct UPDATE) reaches this process within CALLER_TTL_MS at most.
// Changes made in this process — revoking a key, signing out, disabling a
// user, changing a role or a password — call forgetCallers(), which empties
// the cache at once. Lookups that started before a forget are not cached.
export const CALLER_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

const entries = new Map<string, { value: unknown; until: number }>();
let generation = 0;

/** The value remembered under key, if it is younger than CALLER_TTL_MS. */
export function recalled<T>(key: string, now: Date): T | undefined {
  const e = entries.get(key);
  if (!e) return undefined;
  if (e.until <= now.getTime()) {
    entries.delete(key);
    return undefined;
  }
  return e.value as T;
}

/** The generation to pass to remember(): take it before the lookup. */
export function callerGeneration(): number {
  return generation;
}

/** Remembers a verified caller, unless forgetCallers() ran since `gen` was taken. */
export function remember(key: string, value: unknown, now: Date, gen: number): void {
  if (gen !== generation) return;
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { value, until: now.getTime() + CALLER_TTL_MS });
}

/** Forgets every remembered caller: call after revoking, signing out, or changing a user. */
export function forgetCallers(): void {
  generation++;
  entries.clear();
}
