// Training as a queued job ('model.train'), run by the worker (POST /api/models/train).
import type { JobHandler } from '../jobs/queue.ts';
import type { ModelKind } from '../ml/select.ts';
import { trainChurn } from './training.ts';

export const MODEL_TRAIN_TASK = 'model.train';

export const modelTrainHandler: JobHandler = async (ctx) => {
  const p = ctx.payload as { algorithms?: ModelKind[]; cutoffs?: number; horizonDays?: number; activate?: boolean; actor?: string };
  const r = await trainChurn(ctx.db, {
    workspaceId: ctx.workspaceId,
    now: ctx.now(),
    actor: p.actor ?? 'system',
    ...(p.algorithms ? { algorithms: p.algorithms } : {}),
    ...(p.cutoffs ? { cutoffs: p.cutoffs } : {}),
    ...(p.horizonDays ? { horizonDays: p.horizonDays } : {}),
    ...(p.activate !== undefined ? { activate: p.activate } : {}),
    onProgress: (done, total, what) => void ctx.progress({ done, total, current: what }),
  });
  const { candidates, baselines, ...summary } = r;
  return { ...summary, candidates: candidates.map((c) => ({ name: c.name, rocAuc: c.rocAuc, truthRocAuc: c.truthRocAuc })), baselines: baselines.map((c) => ({ name: c.name, rocAuc: c.rocAuc, truthRocAuc: c.truthRocAuc })) };
};
