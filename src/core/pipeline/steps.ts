// The daily pipeline's steps, in order. Each concept adds its step here.
import { cohortsStep, customerMetricsStep, kpisStep, scoringStep } from '../analytics/analytics.steps.ts';
import { segmentsStep } from '../segments/segments.step.ts';
import { churnScoringStep } from '../churn/churn.step.ts';
import { clvStep } from '../predictions/clv.step.ts';
import { clustersStep } from '../predictions/clusters.ts';
import { nextProductsStep } from '../predictions/recommend.ts';
import type { Step } from './pipeline.ts';
import { upkeepStep } from './upkeep.step.ts';

export const PIPELINE_STEPS: Step[] = [customerMetricsStep, scoringStep, cohortsStep, kpisStep, segmentsStep, churnScoringStep, clvStep, nextProductsStep, clustersStep, upkeepStep];

export const PIPELINE_TASK = 'pipeline';
export const DAILY_SCHEDULE = { name: 'daily-pipeline', cron: '0 9 * * *' } as const;
