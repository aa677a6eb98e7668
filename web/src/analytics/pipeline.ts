// "Run pipeline now": queue a run (POST /api/pipeline/runs) and follow it —
// the job's status from /api/jobs and each step's status, progress, duration
// and error from the newest run — until it finishes.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import type { Job, PipelineRun } from './report.ts';

export interface PipelineState {
  run: PipelineRun | null;
  job: Job | null;
  loading: boolean;
  error: ApiError | null;
  starting: boolean;
  /** True while a run is queued or running. */
  active: boolean;
  start(): Promise<void>;
  /** Bumps when a run this page followed has finished (figures may have changed). */
  finishedTick: number;
}

const POLL_MS = 1000;

export function usePipeline(): PipelineState {
  const [run, setRun] = useState<PipelineRun | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [starting, setStarting] = useState(false);
  const [jobId, setJobId] = useState<number | null>(null);
  const [finishedTick, setFinishedTick] = useState(0);
  const wasActive = useRef(false);

  const refresh = useCallback(async (signal?: AbortSignal) => {
    // The job first, then the runs: a job is done only after its run is, so a job seen done
    // comes with its finished run. Read the other way round, a short run could start and
    // finish between the two reads, and the page stopped polling on the previous run.
    const j = jobId !== null ? await api<{ jobs: Job[] }>('/api/jobs?task=pipeline', { signal }) : null;
    const r = await api<{ runs: PipelineRun[] }>('/api/pipeline/runs?limit=5', { signal });
    // The newest run that covers the whole pipeline or was asked for here (backfill runs are internal).
    setRun(r.runs.find((x) => !x.kind.startsWith('backfill')) ?? null);
    if (j) setJob(j.jobs.find((x) => x.id === jobId) ?? null);
  }, [jobId]);

  const jobActive = job !== null && (job.status === 'queued' || job.status === 'running');
  const active = jobActive || (jobId !== null && job === null) || run?.status === 'running';

  useEffect(() => {
    const ac = new AbortController();
    refresh(ac.signal)
      .then(() => setError(null))
      .catch((e) => {
        if ((e as Error).name !== 'AbortError') setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
      })
      .finally(() => setLoading(false));
    return () => ac.abort();
  }, [refresh]);

  useEffect(() => {
    if (!active) {
      if (wasActive.current) setFinishedTick((n) => n + 1);
      wasActive.current = false;
      return;
    }
    wasActive.current = true;
    const ac = new AbortController();
    const id = setInterval(() => {
      refresh(ac.signal).catch(() => {});
    }, POLL_MS);
    return () => {
      clearInterval(id);
      ac.abort();
    };
  }, [active, refresh]);

  const start = useCallback(async () => {
    setStarting(true);
    setError(null);
    try {
      const r = await api<{ jobId: number | null }>('/api/pipeline/runs', { method: 'POST', body: { mode: 'incremental' } });
      setJob(null);
      setJobId(r.jobId);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
    } finally {
      setStarting(false);
    }
  }, []);

  return { run, job, loading, error, starting, active, start, finishedTick };
}
