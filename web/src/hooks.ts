import { type FormEvent, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/** GET a URL and keep its answer; a new URL aborts the previous request. */
export function useApi<T>(url: string | null): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(url !== null);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick forces a reload
  useEffect(() => {
    if (url === null) return;
    const ac = new AbortController();
    setLoading(true);
    setError(null);
    api<T>(url, { signal: ac.signal })
      .then((d) => {
        setData(d);
        setLoading(false);
      })
      .catch((e) => {
        if ((e as Error).name === 'AbortError') return;
        setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
        setLoading(false);
      });
    return () => ac.abort();
  }, [url, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1) };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export interface FormSubmit {
  /** What went wrong with the last attempt, or null. */
  error: string | null;
  busy: boolean;
  submit(e: FormEvent): Promise<void>;
}

/**
 * A form's submit: clears the last error; stops at the problem check() finds, if any; else
 * runs the action with busy set. A failure reads as explain() says, or else as the
 * server's message (a generic one when there is none).
 */
export function useSubmit(opts: { check?: () => string | null; run: () => Promise<void>; explain?: (e: ApiError | null) => string | null }): FormSubmit {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent): Promise<void> {
    e.preventDefault();
    setError(null);
    const problem = opts.check?.() ?? null;
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      await opts.run();
    } catch (err) {
      const ae = err instanceof ApiError ? err : null;
      setError(opts.explain?.(ae) ?? ae?.message ?? t('errors.generic'));
    } finally {
      setBusy(false);
    }
  }
  return { error, busy, submit };
}
