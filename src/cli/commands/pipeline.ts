import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { backfillHistory } from '../../core/analytics/backfill.ts';
import { listRuns, runningSteps, runPipeline, type StepState } from '../../core/pipeline/pipeline.ts';
import { PIPELINE_STEPS } from '../../core/pipeline/steps.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, UserError, withStore } from '../context.ts';

function printSteps(steps: StepState[]): void {
  for (const s of steps) {
    const dur = s.durationMs === undefined ? '' : `${(s.durationMs / 1000).toFixed(2)} s`;
    process.stdout.write(`  ${s.status.padEnd(8)} ${s.name.padEnd(22)} ${dur.padStart(9)}${s.error ? `  ${s.error}` : ''}\n`);
  }
}

export function registerPipeline(program: Command): void {
  const p = program.command('pipeline').description('the daily analytics pipeline (runs itself at 09:00 in the workspace time zone)');
  p.command('run')
    .description('run the pipeline now, showing each step')
    .option('--full', 'recompute everything instead of only what changed since the last run')
    .option('--step <names>', 'only these steps, comma-separated')
    .option('--json', 'print the run as JSON')
    .action(async (opts: { full?: boolean; step?: string; json?: boolean }) => {
      const only = opts.step ? opts.step.split(',').map((s) => s.trim()) : undefined;
      const server = await runningServer();
      if (server) {
        const res = await fetch(`${server.serverUrl}/api/pipeline/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.localToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ mode: opts.full ? 'full' : 'incremental', ...(only ? { only } : {}) }),
        });
        if (!res.ok) throw new UserError(`the running server refused: ${res.status} ${await res.text()}`);
        const job = (await res.json()) as { jobId: number };
        process.stdout.write(`queued on the running server as job ${job.jobId}; follow it with \`liuke pipeline history\` or in the UI\n`);
        return;
      }
      await withStore('pipeline run', async ({ store }) => {
        const bar =
          process.stderr.isTTY && !opts.json
            ? new cliProgress.SingleBar({ format: 'pipeline {bar} {value}/{total} steps | {step}' }, cliProgress.Presets.shades_classic)
            : null;
        bar?.start(only?.length ?? PIPELINE_STEPS.length, 0, { step: '' });
        const result = await runPipeline(store, {
          workspaceId: DEFAULT_WORKSPACE_ID,
          now: new Date(),
          steps: PIPELINE_STEPS,
          mode: opts.full ? 'full' : 'incremental',
          ...(only ? { only } : {}),
          onUpdate: (steps) =>
            bar?.update(steps.filter((s) => s.status === 'done').length, { step: runningSteps(steps) }),
        });
        bar?.stop();
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(`pipeline run ${result.runId}: ${result.status}\n`);
          printSteps(result.steps);
        }
        if (result.status === 'failed') throw new UserError(result.error ?? 'pipeline failed');
      });
    });
  p.command('backfill')
    .description('rebuild tier and lifecycle history by running the analytics as of each of the last N months (for data imported at once)')
    .option('--months <n>', 'how many months back', '12')
    .action(async (opts: { months: string }) => {
      const months = Number(opts.months);
      if (!Number.isInteger(months) || months < 1 || months > 36) throw new UserError('--months must be a whole number from 1 to 36');
      await withStore('pipeline backfill', async ({ store }) => {
        const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'backfill {bar} {value}/{total} runs' }, cliProgress.Presets.shades_classic) : null;
        bar?.start(months + 1, 0);
        const r = await backfillHistory(store, DEFAULT_WORKSPACE_ID, new Date(), months, (done) => bar?.update(done));
        bar?.stop();
        process.stdout.write(`history rebuilt from ${r.runs} runs (${months} monthly as-of runs and one for today)\n`);
      });
    });
  p.command('history')
    .description('recent runs with their steps')
    .option('--limit <n>', 'how many runs', '10')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      await withStore('pipeline history', async ({ store }) => {
        const runs = await listRuns(store.db, DEFAULT_WORKSPACE_ID, Number(opts.limit) || 10);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        if (runs.length === 0) process.stdout.write('no pipeline runs yet: `liuke pipeline run` starts one\n');
        for (const r of runs) {
          process.stdout.write(`run ${r.id} ${r.kind} ${r.status} started ${r.started_at.toISOString()}${r.error ? ` — ${r.error}` : ''}\n`);
          printSteps(r.steps as StepState[]);
        }
      });
    });
}
