import type { Command } from 'commander';
import { getStatus, type Status } from '../../core/status/status.service.ts';
import { DEFAULT_WORKSPACE_ID } from '../../db/schema.ts';
import { runningServer, withStore } from '../context.ts';

function print(s: Status, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(s.counts)) process.stdout.write(`${k.padEnd(18)} ${v.toLocaleString('en')}\n`);
  const run = s.lastPipelineRun;
  process.stdout.write(`last pipeline run  ${run ? `${run.status} at ${run.startedAt}` : 'never'}\n`);
  if (s.figuresLost) {
    process.stdout.write('customer figures   gone after a crash; a pipeline run is queued to compute them again (docs/analytics.md, "After a crash")\n');
  }
  for (const a of s.serverAdvice ?? []) process.stdout.write(`${`postgres ${a.setting}`.padEnd(18)} ${a.value}: ${a.advice}\n`);
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('entity counts and the last pipeline run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      // With a server holding the embedded store, ask it instead of opening the folder.
      const server = await runningServer();
      if (server) {
        const res = await fetch(`${server.serverUrl}/api/status`, {
          headers: { authorization: `Bearer ${server.localToken}` },
        });
        if (!res.ok) throw new Error(`the running server answered ${res.status}: ${await res.text()}`);
        print((await res.json()) as Status, Boolean(opts.json));
        return;
      }
      await withStore('status', async ({ store }) => print(await getStatus(store.db, DEFAULT_WORKSPACE_ID, { server: store.kind === 'postgres' }), Boolean(opts.json)));
    });
}
