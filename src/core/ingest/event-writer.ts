// Group commit for plain events (track, page, screen batches without side
// effects). Requests that arrive while earlier statements are running wait and
// then go together as one INSERT: under load a statement carries several
// requests' events, so PostgreSQL plans, commits and flushes its WAL once for
// all of them (about a third of its CPU per 100-event statement is that fixed
// part). A request on its own goes at once, so nothing waits on a quiet server.
// Each request is answered only after the statement holding its events has
// committed, as before.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { type EventRow, insertEvents } from './ingest.repository.ts';

/**
 * Statements in flight at once per store: enough to keep both cores of a small
 * server busy while one statement waits for its commit to reach the disk; the
 * requests beyond wait and go together.
 */
const IN_FLIGHT = 3;
/** Most events one shared statement carries (about 0.5 MB of JSON at Segment's typical message size). */
const MAX_ROWS = 2_000;

interface Pending {
  workspaceId: number;
  rows: EventRow[];
  resolve: (stored: number) => void;
  reject: (e: unknown) => void;
}

class EventWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /** Stores the rows (message ids already stored are skipped); resolves with how many were new, once committed. */
  write(workspaceId: number, rows: EventRow[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ workspaceId, rows, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length > 0) {
      const group = this.take();
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** The oldest request and those of the same workspace behind it, up to MAX_ROWS; the others keep their place. */
  private take(): Pending[] {
    const first = this.queue.shift()!;
    const group = [first];
    let n = first.rows.length;
    for (let i = 0; i < this.queue.length && n < MAX_ROWS; ) {
      const p = this.queue[i]!;
      if (p.workspaceId === first.workspaceId && n + p.rows.length <= MAX_ROWS) {
        group.push(p);
        n += p.rows.length;
        this.queue.splice(i, 1);
      } else i++;
    }
    return group;
  }

  private async run(group: Pending[]): Promise<void> {
    const ws = group[0]!.workspaceId;
    if (group.length > 1) {
      let fresh: Set<string> | null = null;
      try {
        fresh = await insertEvents(this.db, ws, group.flatMap((p) => p.rows));
      } catch {
        // Rolled back whole: each request again on its own, so one request's failure is not the others'.
      }
      if (fresh) {
        // A message id sent in two of these requests was stored once: it counts for the first.
        for (const p of group) {
          let stored = 0;
          for (const r of p.rows) if (fresh.delete(r.message_id)) stored++;
          p.resolve(stored);
        }
        return;
      }
    }
    for (const p of group) {
      try {
        p.resolve((await insertEvents(this.db, ws, p.rows)).size);
      } catch (e) {
        p.reject(e);
      }
    }
  }
}

const writers = new WeakMap<Kysely<Database>, EventWriter>();

/** The store's event writer (one per database handle, so its groups share that handle's pool). */
export function eventWriter(db: Kysely<Database>): EventWriter {
  let w = writers.get(db);
  if (!w) {
    w = new EventWriter(db);
    writers.set(db, w);
  }
  return w;
}
