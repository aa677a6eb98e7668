import { type InputHTMLAttributes, useEffect, useState } from 'react';
import { useDebounced } from '../hooks.ts';

/** An input that reports its value after typing pauses, so each key is not a request. */
export function DebouncedInput({
  value,
  onCommit,
  ms = 350,
  ...rest
}: { value: string; onCommit(v: string): void; ms?: number } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  const [v, setV] = useState(value);
  const d = useDebounced(v, ms);
  // biome-ignore lint/correctness/useExhaustiveDependencies: commit only when the debounced text changes
  useEffect(() => {
    if (d !== value) onCommit(d);
  }, [d]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow outside resets (Clear filters)
  useEffect(() => {
    if (value !== d) setV(value);
  }, [value]);
  return <input {...rest} value={v} onChange={(e) => setV(e.target.value)} />;
}
