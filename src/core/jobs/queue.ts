// What the rest of Liuke uses to put work on the queue and read its state.
export { insertJob as enqueue, listJobs, getJob, type NewJob } from './jobs.repository.ts';
export { upsertSchedule, listSchedules, nextRun, InvalidScheduleError, type ScheduleSpec } from './schedules.ts';
export { createWorker, type JobHandler, type JobContext, type Worker } from './worker.ts';
