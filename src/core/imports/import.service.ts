// An import: read the file as a stream, map its headers, validate each row,
// load valid rows in batches through a staging table and upsert them, all in
// one transaction (a file that turns out to be broken halfway leaves nothing
// behind). --strict rolls back when any row was rejected; --dry-run always
// rolls back, so its counts are exactly what a real run would do.
import { open } from 'node:fs/promises';
import { orderFigures, refreshCustomerStats } from '../customers/customers.stats.ts';
import type { Store } from '../../db/store.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { type ImportEntity, SPECS } from './entities.ts';
import * as repo from './import.repository.ts';
import { type ExplicitMapping, resolveMapping } from './mapping.ts';
import { type Encoding, fileSize, ImportFileError, type Input, openSource, type Source } from './reader.ts';
import { checkSlowRows, copyDirect, copyRaw, countRejected, emitIssues, findDuplicates, type RowSorter, rawPathFits, sortRaw } from './fast.ts';
import { FigureTally, figuresFromTally, stubsFromTally, tallyUsable } from './figures.ts';
import { workspaceExists } from '../../db/workspaces.ts';
import { mappedColumns, type RowIssue, rowChecker } from './validate.ts';

export interface ImportOptions {
  workspaceId: number;
  entity: ImportEntity;
  input: Input;
  /** Name shown in messages and recorded in import_runs. */
  fileName: string;
  mapping?: ExplicitMapping | undefined;
  encoding?: Encoding | undefined;
  sheet?: string | undefined;
  strict?: boolean | undefined;
  dryRun?: boolean | undefined;
  /** For the audit log: "cli", "user:alice", … */
  actor: string;
  now: Date;
  onBytes?: ((bytes: number) => void) | undefined;
  /** Every rejected row, as found (the CLI streams them to the errors CSV). */
  onIssue?: ((issue: RowIssue) => void) | undefined;
  /** Rows per staging batch. */
  batchRows?: number | undefined;
}

export type ImportStatus = 'done' | 'failed' | 'dry_run';

export interface ImportReport {
  runId: number;
  entity: ImportEntity;
  file: string;
  status: ImportStatus;
  /** Why a failed run failed. */
  message?: string;
  format?: 'csv' | 'xlsx';
  encoding?: string;
  sheet?: string;
  /** header → field (customers' extra columns as attributes.NAME). */
  mapping: Record<string, string>;
  ignoredHeaders: { header: string; reason: string }[];
  rowsRead: number;
  /** In a dry run: what would be new / changed / unchanged. */
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** Customers created as stubs because a row named an unknown customer id. */
  stubCustomers: number;
  /** How the rows were read: 'raw-csv' (the file's bytes COPYed and checked in SQL) or 'rows' (parsed and checked in Node). */
  loader?: 'raw-csv' | 'rows';
  durationMs: number;
  /** The first rejected rows (all of them go to onIssue). */
  errors: RowIssue[];
  errorsTruncated: boolean;
}

/** Imports that took the direct load or used the figures tallied in Node, and the tables taken for a bulk load (for tests: the report does not say). */
export const loadStats = { direct: 0, tallied: 0, straightStubs: 0, bulk: [] as string[] };

/** How many rejected rows a report (and the import_runs record) carries. */
export const REPORT_ERRORS = 1000;
const BATCH_ROWS = 100_000;
/** A bulk load (keys dropped, rebuilt at the end) when the table holds at most this many times the rows loaded. */
const BULK_TABLE_RATIO = 2;

/** Runs an import. A file that cannot be imported at all throws ImportFileError (recorded as a failed run). */
export async function runImport(store: Store, o: ImportOptions): Promise<ImportReport> {
  const t0 = performance.now();
  const spec = SPECS[o.entity];
  // Orders and order lines have no foreign key to workspaces (migration 0013): the workspace is checked here, once.
  if (!(await workspaceExists(store.db, o.workspaceId))) throw new ImportFileError(`workspace ${o.workspaceId} does not exist`, 'no_workspace', 404);
  const runId = await repo.insertRun(store.db, o.workspaceId, o.entity, o.fileName, o.now);
  const report: ImportReport = {
    runId,
    entity: o.entity,
    file: o.fileName,
    status: 'done',
    mapping: {},
    ignoredHeaders: [],
    rowsRead: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    stubCustomers: 0,
    durationMs: 0,
    errors: [],
    errorsTruncated: false,
  };
  const finish = async (status: ImportStatus, message?: string) => {
    report.status = status;
    if (message) report.message = message;
    report.durationMs = Math.round(performance.now() - t0);
    const finishedAt = new Date(o.now.getTime() + report.durationMs);
    await repo.finishRun(store.db, o.workspaceId, runId, {
      status,
      finishedAt,
      rowsTotal: report.rowsRead,
      inserted: report.inserted,
      updated: report.updated,
      unchanged: report.unchanged,
      rejected: report.rejected,
      report,
    });
  };

  let source: Source | undefined;
  try {
    let bytesRead = 0;
    const onBytes = (n: number) => {
      bytesRead = n;
      o.onBytes?.(n);
    };
    const size = 'path' in o.input ? await fileSize(o.input.path).catch(() => 0) : 0;
    source = await openSource(o.input, { encoding: o.encoding, sheet: o.sheet, onBytes });
    report.format = source.format;
    if (source.encoding) report.encoding = source.encoding;
    if (source.sheet) report.sheet = source.sheet;
    const mapping = resolveMapping(o.entity, source.headers, o.mapping);
    report.mapping = mapping.byHeader;
    report.ignoredHeaders = mapping.ignored;
    const mapped = mappedColumns(spec, mapping, source.headers);
    // A well-formed CSV goes to the store as bytes and is checked there (fast.ts).
    const raw = rawPathFits(spec, mapping, mapped, source, o.input) && source.encoding ? { path: (o.input as { path: string }).path, encoding: source.encoding } : null;
    const checker = rowChecker(spec, mapping, source.headers, source.format, { dedupe: !raw });
    const columns = checker.columns;
    const colNames = columns.map((c) => c.name);
    const stubs = spec.customerRef && colNames.includes('customer_id');
    const batchRows = o.batchRows ?? BATCH_ROWS;
    const headers = source.headers;
    let src = source;

    const noteIssue = (issue: RowIssue) => {
      o.onIssue?.(issue);
      if (report.errors.length < REPORT_ERRORS) report.errors.push(issue);
      else report.errorsTruncated = true;
    };

    await store.session(async (s) => {
      await repo.sqlBegin(s.db);
      let pending: Promise<void> | null = null;
      try {
        await repo.setLocalTimeZone(s.db, await repo.workspaceTimeZone(s.db, o.workspaceId));
        if (s.kind === 'postgres') await repo.setLocalWorkMem(s.db);
        // Keys and indexes taken off for a bulk load, to be rebuilt before the commit.
        const dropped: repo.DroppedKeys[] = [];
        // A first load of a large file: straight into the table (fast.ts copyDirect), or else the paths below.
        const attempt = raw ? await loadDirect(s, { spec, columns, mapped, width: headers.length, checker, raw, size, batchRows, workspaceId: o.workspaceId, now: o.now, onBytes }) : null;
        const direct = attempt && attempt !== 'busy' ? attempt : null;
        // The table was not to be had for the direct load: the bulk load below would wait for it again.
        const busy = attempt === 'busy';
        if (direct) {
          report.loader = 'raw-csv';
          report.rowsRead = direct.rowsRead;
          report.inserted = direct.inserted;
          report.rejected = direct.rejected;
          dropped.push(direct.keys);
          await emitIssues(s.db, noteIssue);
        }
        /** Raw path: the file is in RAW; the rows to check in Node are noted. */
        let sorter: RowSorter | null = null;
        /** Raw path: duplicate keys within the file have been taken out of the stage. */
        let deduped = false;
        if (raw && !direct) {
          // The header is all the Node reader had to read.
          await src.cleanup();
          await repo.savepoint(s.db, 'liuke_import_raw');
          try {
            // Into a workspace without rows the rebuilt key finds duplicates: no need to remember keys.
            const trackKeys = await repo.hasRows(s.db, spec, o.workspaceId);
            sorter = await copyRaw(s, { width: headers.length, mapped, key: spec.key, trackKeys, path: raw.path, encoding: raw.encoding, onBytes });
          } catch (e) {
            // COPY refused the file as a whole (or fast.ts saw it would read it differently): the Node path reports each bad row.
            await repo.rollbackToSavepoint(s.db, 'liuke_import_raw');
            if (process.env.LIUKE_IMPORT_RAW_DEBUG) console.error('raw CSV path not taken:', (e as Error).message);
            src = await openSource(o.input, { encoding: o.encoding, sheet: o.sheet, onBytes });
            source = src;
          }
          await repo.releaseSavepoint(s.db, 'liuke_import_raw');
        }
        const copied = sorter !== null;
        if (!direct) report.loader = copied ? 'raw-csv' : 'rows';
        const fallbackChecker = raw && !copied ? rowChecker(spec, mapping, headers, 'csv') : checker;
        if (!direct) await repo.createStage(s.db, columns, { rn: copied });
        if (stubs && !direct) await repo.createRefs(s.db);
        // Nothing of this entity in the workspace yet: plain INSERTs (keys are unique within a file).
        const empty = !direct && !(await repo.hasRows(s.db, spec, o.workspaceId));
        let fast = empty;
        let decided = false;
        const flush = async (lines: string[], estimate: number) => {
          await repo.clearStage(s.db);
          await s.copyCsv(repo.STAGE, colNames, chunked(lines));
          await load(lines.length, estimate);
        };
        /** Writes the stage (n rows) to the entity's table. */
        const load = async (n: number, estimate: number) => {
          if (stubs) await repo.collectRefs(s.db);
          if (!decided) {
            decided = true;
            // A file at least a batch long into a table it outweighs: load the heap alone, index once at the end.
            if (fast && n >= batchRows && !busy) {
              const taken = await takeForBulkLoad(s.db, spec.table, estimate, async () => !(await repo.hasRows(s.db, spec, o.workspaceId)));
              // Someone wrote rows between our first look and the lock: the ordinary path after all.
              if (taken === 'raced') fast = false;
              else if (taken !== 'no') dropped.push(taken);
            }
          }
          let r: { inserted: number; updated: number } | undefined;
          if (fast && dropped.length > 0) {
            // The table is ours until the commit and had none of this workspace's rows.
            r = await repo.upsertStage(s.db, spec, columns, o.workspaceId, o.now, 'insert');
            // The raw path has not looked for duplicate keys yet: the key, rebuilt now, does.
            if (copied) for (const d of dropped) if (d.table === spec.table) await repo.restoreConstraints(s.db, d, s.kind === 'postgres');
          } else if (fast) {
            await repo.savepoint(s.db);
            try {
              r = await repo.upsertStage(s.db, spec, columns, o.workspaceId, o.now, 'insert');
              await repo.releaseSavepoint(s.db);
            } catch (e) {
              // A key written meanwhile by someone else: back to the upsert for the rest of the file.
              // (The raw path first looks for duplicates within the file, which fail here too.)
              if ((e as { code?: string }).code !== '23505' || (copied && !deduped)) throw e;
              await repo.rollbackToSavepoint(s.db);
              fast = false;
            }
          }
          r ??= await repo.upsertStage(s.db, spec, columns, o.workspaceId, o.now);
          report.inserted += r.inserted;
          report.updated += r.updated;
          report.unchanged += n - r.inserted - r.updated;
        };
        // One batch loads while the next is parsed; never more than one ahead.
        const start = async (lines: string[]) => {
          if (pending) await pending;
          // Rows the whole file holds, guessed from how far into it this batch reaches.
          const estimate = size > 0 && bytesRead > 0 ? Math.max(report.rowsRead, Math.round((report.rowsRead * size) / bytesRead)) : report.rowsRead;
          const p = flush(lines, estimate);
          p.catch(() => {});
          pending = p;
        };
        if (copied) {
          const r = await sortRaw(s, { mapped, width: headers.length, sorter: sorter!, checker, stage: repo.STAGE, stageColumns: colNames });
          report.rowsRead = r.rowsRead;
          let staged = r.staged;
          // Every plain key was different and no row was fixed up in Node: no duplicates to look for.
          if (!r.maybeDuplicates) deduped = true;
          // Duplicate keys within the file: a plain INSERT into a workspace without rows (its key
          // in place, or rebuilt right after) fails on one (23505), so they are looked for only
          // then. The upsert does not always notice them (a no-op first row lets a second one
          // update), so with existing rows they are looked for first.
          // (In strict mode with rows already rejected nothing is loaded: they are looked for at once.)
          report.rejected = await countRejected(s.db);
          const optimistic = empty && colNames.length > spec.key.length && !(o.strict && report.rejected > 0);
          if (!optimistic && !deduped) {
            staged -= await findDuplicates(s.db, spec, mapped, repo.STAGE);
            deduped = true;
            report.rejected = await countRejected(s.db);
          }
          const loadable = () => staged > 0 && !(o.strict && report.rejected > 0);
          // One load of the whole file (the stage holds it), so the bulk decision sees its real size.
          if (loadable() && optimistic && !deduped) {
            await repo.savepoint(s.db, 'liuke_import_load');
            let again = false;
            try {
              await load(staged, staged);
            } catch (e) {
              if ((e as { code?: string }).code !== '23505') throw e;
              // Undoes the lock, dropped keys and rows of the attempt.
              await repo.rollbackToSavepoint(s.db, 'liuke_import_load');
              dropped.length = 0;
              decided = false;
              fast = empty;
              report.inserted = report.updated = report.unchanged = 0;
              staged -= await findDuplicates(s.db, spec, mapped, repo.STAGE);
              deduped = true;
              report.rejected = await countRejected(s.db);
              again = true;
            }
            await repo.releaseSavepoint(s.db, 'liuke_import_load');
            if (again && loadable()) await load(staged, staged);
          } else if (loadable()) {
            await load(staged, staged);
          }
          await emitIssues(s.db, noteIssue);
        } else if (!direct) {
          let lines: string[] = [];
          for await (const row of src.rows) {
            report.rowsRead++;
            const r = fallbackChecker.check(row);
            if ('issues' in r) {
              report.rejected++;
              for (const issue of r.issues) noteIssue(issue);
              continue;
            }
            // In strict mode nothing more is loaded once a row is bad; reading goes on to report every bad row.
            if (o.strict && report.rejected > 0) continue;
            lines.push(r.ok.line);
            if (lines.length >= batchRows) {
              await start(lines);
              lines = [];
            }
          }
          if (lines.length > 0 && !(o.strict && report.rejected > 0)) await start(lines);
          if (pending) await pending;
        }
        const keep = !o.dryRun && !(o.strict && report.rejected > 0);
        // Stub customers once per file, from every customer id it named. (Not when --strict
        // writes nothing anyway: the report then counts none.)
        let touched = 0;
        // A first orders file into a workspace without customers: every customer it names is new.
        // Their stubs go straight in from the figures Node tallied (figures.ts stubsFromTally),
        // when the tally is exact and customers can be taken for a bulk load.
        let straight = false;
        const tally = direct?.slowValid === 0 ? direct.tally : undefined;
        if (stubs && keep && tally !== undefined && tally.size >= batchRows && !(await repo.hasRows(s.db, SPECS.customers, o.workspaceId)) && (await tallyUsable(s.db, tally))) {
          const taken = await takeForBulkLoad(s.db, 'customers', tally.size, async () => !(await repo.hasRows(s.db, SPECS.customers, o.workspaceId)));
          if (typeof taken === 'object') {
            dropped.push(taken);
            loadStats.tallied++;
            loadStats.straightStubs++;
            report.stubCustomers = await stubsFromTally(s, tally, o.workspaceId, o.now);
            straight = true;
          }
        }
        if (stubs && !straight && !(o.strict && report.rejected > 0)) {
          // After a direct load every order of the workspace is the file's: their figures name the customers.
          // The figures Node tallied during a direct load of orders, where exact (figures.ts); else one aggregate.
          const tallied =
            direct?.tally !== undefined &&
            (await figuresFromTally(s, direct.tally, { table: repo.FIGURES, extraOrders: direct.slowValid > 0 ? repo.STAGE : null, orderFigures: (f) => orderFigures(o.workspaceId, f) }));
          if (tallied) loadStats.tallied++;
          touched = direct ? await repo.figuresOfWorkspace(s.db, o.workspaceId, { tallied }) : await repo.finishRefs(s.db);
          const fresh = touched > 0 ? await repo.countNewCustomers(s.db, o.workspaceId) : 0;
          // Many new customers for the size of the table: the same bulk load for customers.
          // An orders file that adds orders rewrites the figures (customers.stats_*) of the existing customers it
          // names (refreshTouchedStats): each such update is a new row version entered into every one of customers'
          // indexes, since the list indexes hold the figures. A first orders import after the customers (200k of
          // them) spent 29 s of backend CPU so, against about 4 s for the update with the indexes dropped and
          // their rebuild: the same bulk load when the rewrites are many for the size of the table.
          const rewritten = o.entity === 'orders' && report.updated === 0 && report.inserted > 0 ? touched - fresh : 0;
          const customersTaken = keep && fresh + rewritten >= batchRows ? await takeForBulkLoad(s.db, 'customers', fresh + rewritten) : 'no';
          const customersDropped = typeof customersTaken === 'object';
          if (customersDropped) dropped.push(customersTaken);
          // Orders: each touched customer's figures once, for the stubs and the stats refresh below.
          if (!direct && o.entity === 'orders' && touched > 0 && (fresh > 0 || report.inserted + report.updated > 0)) await repo.collectFigures(s.db, o.workspaceId, touched);
          report.stubCustomers = fresh > 0 ? await repo.createStubCustomers(s.db, o.workspaceId, o.now, { keysDropped: customersDropped, withFigures: o.entity === 'orders' }) : 0;
        }
        if (keep) {
          if (o.entity === 'customers' && report.inserted + report.updated > 0) {
            await recordAudit(s.db, {
              workspaceId: o.workspaceId,
              actor: o.actor,
              action: 'import',
              entity: 'customer',
              entityId: null,
              after: { file: o.fileName, runId, inserted: report.inserted, updated: report.updated },
              at: o.now,
            });
          }
          // The customer list sorts on the order figures (customers.stats_*): refresh them with the same commit.
          // Order lines do not enter them (orders carry the amounts).
          if (o.entity === 'customers' && report.inserted + report.updated > 0) {
            // A customers file changes no order: only its new customers need figures (zeros).
            await repo.refreshStatsOfUnrefreshed(s.db, o.workspaceId);
          } else if (o.entity === 'orders' && report.inserted + report.updated > 0) {
            // New orders only touch the customers they name; an updated order may have
            // moved to another customer, so updates refresh everyone.
            // (Straight stubs got their figures with the row, and there were no other customers.)
            if (!straight) {
              if (stubs && report.updated === 0) await repo.refreshTouchedStats(s.db, o.workspaceId);
              else await refreshCustomerStats(s.db, o.workspaceId);
            }
          }
          for (const d of dropped) await repo.restoreKeys(s.db, d, s.kind === 'postgres');
          await repo.sqlCommit(s.db);
        } else {
          // The rollback puts back whatever was dropped.
          await repo.sqlRollback(s.db);
        }
      } catch (e) {
        if (pending) await (pending as Promise<void>).catch(() => {});
        await repo.sqlRollback(s.db).catch(() => {});
        throw e;
      }
    });
  } catch (e) {
    // Nothing of this file was kept: say so in the run record.
    zero(report);
    await finish('failed', (e as Error).message).catch(() => {});
    throw e;
  } finally {
    await source?.cleanup();
  }
  if (o.strict && report.rejected > 0) {
    const rejected = report.rejected;
    const counts = { ...report };
    zero(report);
    report.rowsRead = counts.rowsRead;
    report.rejected = rejected;
    await finish('failed', `${rejected} row${rejected === 1 ? ' was' : 's were'} rejected and --strict is set: nothing was imported`);
    return report;
  }
  await finish(o.dryRun ? 'dry_run' : 'done');
  return report;
}

/**
 * A direct load (fast.ts copyDirect) when the raw path takes the file, the
 * workspace has none of the entity yet and the file (estimated from its size
 * and first records) is a bulk load: the table is taken and its keys dropped,
 * the plain records go straight into it, the primary key is rebuilt at once
 * (a duplicate key fails it), then the other records are checked in Node and
 * the valid ones inserted with the key in place. Null when not taken or when
 * anything failed — all undone to a savepoint, and the raw path (which finds
 * duplicates and names the earlier row) or the Node path reads the file.
 */
async function loadDirect(
  s: Parameters<Parameters<Store['session']>[0]>[0],
  o: {
    spec: (typeof SPECS)[ImportEntity];
    columns: ReturnType<typeof rowChecker>['columns'];
    mapped: Parameters<typeof copyDirect>[1]['mapped'];
    width: number;
    checker: ReturnType<typeof rowChecker>;
    raw: { path: string; encoding: Encoding };
    size: number;
    batchRows: number;
    workspaceId: number;
    now: Date;
    onBytes: (n: number) => void;
  },
): Promise<{ rowsRead: number; inserted: number; rejected: number; keys: repo.DroppedKeys; tally?: FigureTally; slowValid: number } | 'busy' | null> {
  if (process.env.LIUKE_IMPORT_DIRECT === '0') return null;
  const estimate = await estimateRecords(o.raw.path, o.size);
  if (estimate < o.batchRows || (await repo.hasRows(s.db, o.spec, o.workspaceId))) return null;
  await repo.savepoint(s.db, 'liuke_import_direct');
  let busy = false;
  try {
    if (!worthBulk(await repo.countUpTo(s.db, o.spec.table, bulkLimit(estimate)), estimate)) throw new Error('the table is large next to the file');
    if (!(await repo.lockTable(s.db, o.spec.table))) {
      busy = true;
      throw new Error('the table is not to be had for a bulk load');
    }
    if (await repo.hasRows(s.db, o.spec, o.workspaceId)) throw new Error('rows were written meanwhile');
    const keys = await repo.dropKeys(s.db, o.spec.table);
    await repo.releaseLockSavepoint(s.db);
    const extras = [
      ...(o.spec.entity === 'customers' ? [{ name: 'is_stub', text: 'false' }] : []),
      ...(o.spec.updatedAt ? [{ name: 'updated_at', text: o.now.toISOString() }] : []),
    ];
    // Orders: each customer's figures tallied as the records pass (figures.ts), instead of an aggregate over them afterwards.
    const tally = o.spec.entity === 'orders' && process.env.LIUKE_IMPORT_TALLY !== '0' ? new FigureTally() : undefined;
    const { loaded } = await copyDirect(s, { width: o.width, mapped: o.mapped, table: o.spec.table, workspaceId: o.workspaceId, extras, tally, path: o.raw.path, encoding: o.raw.encoding, onBytes: o.onBytes });
    await repo.restoreConstraints(s.db, keys, s.kind === 'postgres');
    await repo.createStage(s.db, o.columns, { rn: true });
    const slow = await checkSlowRows(s, { width: o.width, checker: o.checker, stage: repo.STAGE, stageColumns: o.columns.map((c) => c.name), onlyNoted: false });
    // With the key in place: a row fixed up in Node that repeats a key fails here, and the raw path sorts it out.
    const more = slow.valid > 0 ? (await repo.upsertStage(s.db, o.spec, o.columns, o.workspaceId, o.now, 'insert')).inserted : 0;
    const rejected = await countRejected(s.db);
    await repo.releaseSavepoint(s.db, 'liuke_import_direct');
    loadStats.direct++;
    return { rowsRead: loaded + slow.rowsRead, inserted: loaded + more, rejected, keys, ...(tally ? { tally } : {}), slowValid: slow.valid };
  } catch (e) {
    await repo.rollbackToSavepoint(s.db, 'liuke_import_direct');
    await repo.releaseSavepoint(s.db, 'liuke_import_direct');
    if (process.env.LIUKE_IMPORT_RAW_DEBUG) console.error('direct load not taken:', (e as Error).message);
    // Only a lock that was not to be had makes the later bulk load pointless (it would wait again).
    return busy ? 'busy' : null;
  }
}

/** Records in the file, estimated from its size and the newlines in its first 256 KB. */
async function estimateRecords(path: string, size: number): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, 256 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let lines = 0;
    for (let at = buf.indexOf(0x0a); at !== -1 && at < bytesRead; at = buf.indexOf(0x0a, at + 1)) lines++;
    return bytesRead === 0 ? 0 : Math.round((lines * size) / bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Whether loading about `rows` rows into the table is better done with its
 * indexes dropped and rebuilt: when the table (all workspaces) is small next
 * to the load, rebuilding sorts fewer entries than inserting them one by one
 * into every btree. Locks the table when so (see repo.lockTable); false when
 * not worth it or the lock was not to be had.
 */
async function bulkLoad(db: Parameters<typeof repo.countUpTo>[0], table: string, rows: number): Promise<boolean> {
  if (!worthBulk(await repo.countUpTo(db, table, bulkLimit(rows)), rows)) return false;
  return repo.lockTable(db, table);
}

/**
 * Takes `table` for a bulk load of about `rows` rows (bulkLoad) and drops its keys and
 * indexes, to be rebuilt before the commit. 'no' when not worth it or not to be had;
 * 'raced' when `stillEmpty` no longer holds once the table is ours (rows were written
 * between the caller's first look and the lock: the table is let go).
 */
async function takeForBulkLoad(
  db: Parameters<typeof repo.countUpTo>[0],
  table: string,
  rows: number,
  stillEmpty?: () => Promise<boolean>,
): Promise<repo.DroppedKeys | 'no' | 'raced'> {
  if (!(await bulkLoad(db, table, rows))) return 'no';
  if (stillEmpty && !(await stillEmpty())) {
    await repo.rollbackLockSavepoint(db);
    return 'raced';
  }
  const keys = await repo.dropKeys(db, table);
  await repo.releaseLockSavepoint(db);
  loadStats.bulk.push(table);
  return keys;
}
const bulkLimit = (rows: number) => rows * BULK_TABLE_RATIO + 1;
const worthBulk = (tableRows: number, rows: number) => tableRows < bulkLimit(rows);

function zero(r: ImportReport): void {
  r.inserted = 0;
  r.updated = 0;
  r.unchanged = 0;
  r.stubCustomers = 0;
}

/** COPY input in pieces of a few thousand rows: far fewer writes than a row at a time. */
function* chunked(lines: string[], per = 2000): Iterable<string> {
  for (let i = 0; i < lines.length; i += per) yield lines.slice(i, i + per).join('');
}
