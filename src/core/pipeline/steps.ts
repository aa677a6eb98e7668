// The daily pipeline's steps, in order. Each concept adds its step here.
import type { Step } from './pipeline.ts';

export const PIPELINE_STEPS: Step[] = [];

export const PIPELINE_TASK = 'pipeline';
export const DAILY_SCHEDULE = { name: 'daily-pipeline', cron: '0 9 * * *' } as const;
