// The pipeline step that keeps tags and segments current: every enabled one is
// evaluated set-based as of the run's `now`; entries and exits are recorded.
import { requireFigures } from '../analytics/metrics.repository.ts';
import type { Step } from '../pipeline/pipeline.ts';
import { evaluateAll } from './segments.service.ts';

export const segmentsStep: Step = {
  name: 'segments',
  title: { en: 'Tags and segments (memberships, entries and exits)', zh: '标签与分群（成员、进入与退出）' },
  async run(ctx) {
    // Rules read the figures: on none, every member of a figures rule would leave.
    await requireFigures(ctx.db, ctx.workspaceId, 'segments');
    const r = await evaluateAll(ctx.db, ctx.workspaceId, ctx.now, { progress: (done, total) => ctx.progress(done, total), log: (m) => ctx.log(m) });
    for (const f of r.failed) ctx.log(`segment ${f.id} failed: ${f.error}`);
    return { segments: r.segments, entered: r.entered, left: r.left, failed: r.failed.length };
  },
};
