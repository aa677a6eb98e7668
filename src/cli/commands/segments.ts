import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { RuleSyntaxError } from '../../core/segments/ast.ts';
import * as segments from '../../core/segments/segments.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { UserError, withStore } from '../context.ts';

const asUserError = (e: unknown) => {
  if (e instanceof segments.SegmentError && e.errors.length) {
    const lines = e.errors.map((x) => (x.line ? `  line ${x.line}, column ${x.column}: ${x.message}` : `  ${x.path}: ${x.message}`));
    return new UserError(`the rule is not valid:\n${lines.join('\n')}`);
  }
  if (e instanceof segments.SegmentError || e instanceof RuleSyntaxError) return new UserError(e.message);
  return e;
};

async function run(command: string, fn: (db: Parameters<typeof segments.listSegments>[0]) => Promise<void>): Promise<void> {
  try {
    await withStore(command, ({ store }) => fn(store.db));
  } catch (e) {
    throw asUserError(e);
  }
}

const out = (s: string) => process.stdout.write(s);
const num = (v: number | null) => (v === null || v === undefined ? '' : v.toLocaleString('en', { maximumFractionDigits: 2 }));

export function registerSegments(program: Command): void {
  const cmd = program.command('segments').description('tags and segments: rules over customers, kept current by the pipeline (docs/rules.md)');

  cmd
    .command('list')
    .description('every tag and segment with its member count')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await run('segments list', async (db) => {
        const rows = await segments.listSegments(db, DEFAULT_WORKSPACE_ID, new Date());
        if (opts.json) return void out(`${JSON.stringify(rows, null, 2)}\n`);
        for (const s of rows) {
          out(`${s.id}\t${s.kind}${s.builtin ? ' (built-in)' : ''}${s.enabled ? '' : ' (disabled)'}\t${s.name}\t${s.name_zh ?? ''}\t${s.member_count} members\n`);
        }
      });
    });

  cmd
    .command('show <id>')
    .description('one tag or segment: its rule, what it means and its size')
    .action(async (id: string) => {
      await run('segments show', async (db) => {
        const s = await segments.getSegment(db, DEFAULT_WORKSPACE_ID, id, new Date());
        out(`${s.name}${s.name_zh ? ` / ${s.name_zh}` : ''} (${s.id}, ${s.kind}${s.builtin ? ', built-in' : ''}${s.enabled ? '' : ', disabled'})\n`);
        if (s.description) out(`${s.description}\n`);
        out(`rule:    ${s.rule_text}\n`);
        out(`members: ${s.member_count}${s.evaluated_at ? ` as of ${s.evaluated_at.toISOString()}` : ' (not evaluated yet: run `liuke pipeline run`)'}\n`);
        if (s.last_error) out(`last error: ${s.last_error}\n`);
      });
    });

  cmd
    .command('preview')
    .description('how many customers a rule matches now, with a sample')
    .requiredOption('--rule <text>', 'the rule in its text form, e.g. \'tier = "D" and coupon_share > 50%\'')
    .option('--sample <n>', 'customers to show', '10')
    .option('--lang <lang>', 'en or zh-CN (the explanation)', 'en')
    .option('--json', 'print JSON')
    .action(async (opts: { rule: string; sample: string; lang: string; json?: boolean }) => {
      const sample = Number(opts.sample);
      if (!Number.isInteger(sample) || sample < 0 || sample > 100) throw new UserError(`--sample must be a whole number from 0 to 100, not "${opts.sample}"`);
      await run('segments preview', async (db) => {
        const p = await segments.previewRule(db, DEFAULT_WORKSPACE_ID, opts.rule, new Date(), { sample });
        if (opts.json) return void out(`${JSON.stringify(p, null, 2)}\n`);
        out(`rule:    ${p.text}\n`);
        out(`means:   ${opts.lang === 'zh-CN' ? p.explanation.zh : p.explanation.en}\n`);
        out(`matches: ${p.count} customers\n`);
        for (const part of p.parts) out(`  ${part.count}\t${part.text}\n`);
        if (p.sample.length) out('\nid\tname\ttier\tstage\tspend\n');
        for (const c of p.sample) out(`${c.id}\t${c.name ?? ''}\t${c.tier ?? ''}\t${c.lifecycle_stage ?? ''}\t${num(c.spend_total)}\n`);
      });
    });

  cmd
    .command('create')
    .description('save a tag or segment; the next pipeline run fills its members')
    .requiredOption('--name <name>', 'the name')
    .requiredOption('--rule <text>', 'the rule in its text form')
    .option('--name-zh <name>', 'the Chinese name')
    .option('--description <text>', 'what it is for')
    .option('--kind <kind>', 'tag or segment', 'segment')
    .action(async (opts: { name: string; rule: string; nameZh?: string; description?: string; kind: string }) => {
      if (opts.kind !== 'tag' && opts.kind !== 'segment') throw new UserError(`--kind must be tag or segment, not "${opts.kind}"`);
      await run('segments create', async (db) => {
        const s = await segments.createSegment(
          db,
          DEFAULT_WORKSPACE_ID,
          { name: opts.name, name_zh: opts.nameZh ?? null, description: opts.description ?? null, kind: opts.kind as 'tag' | 'segment', rule: opts.rule },
          { actor: 'cli', now: new Date() },
        );
        out(`created ${s.kind} ${s.id}: ${s.rule_text}\n`);
      });
    });

  cmd
    .command('members <id>')
    .description('the current members (as of the last pipeline run)')
    .option('--format <format>', 'table or csv', 'table')
    .action(async (id: string, opts: { format: string }) => {
      if (opts.format !== 'table' && opts.format !== 'csv') throw new UserError(`--format must be table or csv, not "${opts.format}"`);
      await run('segments members', async (db) => {
        await segments.getSegment(db, DEFAULT_WORKSPACE_ID, id, new Date());
        const cols = ['id', 'name', 'tier', 'lifecycle_stage', 'spend_total', 'orders_total', 'since'] as const;
        if (opts.format === 'csv') out(stringify([cols as unknown as string[]]));
        else out(`${cols.join('\t')}\n`);
        for await (const m of segments.allMembers(db, DEFAULT_WORKSPACE_ID, id)) {
          const row = [m.id, m.name ?? '', m.tier ?? '', m.lifecycle_stage ?? '', m.spend_total ?? '', m.orders_total ?? '', m.since.toISOString()];
          out(opts.format === 'csv' ? stringify([row]) : `${row.join('\t')}\n`);
        }
      });
    });
}
