// The daily pipeline's churn step: scores every customer who has bought.
import type { Step } from '../pipeline/pipeline.ts';
import { scoreAll } from './scoring.ts';

export const churnScoringStep: Step = {
  name: 'churn_scoring',
  title: { en: 'Churn risk: probability, tiers, drivers and the early-warning scorecard', zh: '流失风险：概率、风险等级、原因与预警评分卡' },
  async run(ctx) {
    const r = await scoreAll(ctx.db, ctx.workspaceId, ctx.now);
    ctx.log(r.message);
    return { customers: r.customers, model: r.modelVersion, tiers: r.tiers, explained: r.explained, message: r.message, ...(r.modelId === null ? { skipped: 'model' } : {}) };
  },
};
