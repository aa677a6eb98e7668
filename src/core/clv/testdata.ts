// Readers for the shared CDNOW test files (tests only).
import { sharedDataDir } from '../../shared/testdata.ts';
import { readFileSync } from 'node:fs';

export const CDNOW_DIR = `${sharedDataDir()}/cdnow`;

function csv(file: string): number[][] {
  return readFileSync(`${CDNOW_DIR}/${file}`, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));
}

export function cdnowSummary(): { frequency: Float64Array; recency: Float64Array; T: Float64Array; ids: number[] } {
  const rows = csv('cdnow_customers_summary.csv');
  return {
    ids: rows.map((r) => r[0]!),
    frequency: Float64Array.from(rows.map((r) => r[1]!)),
    recency: Float64Array.from(rows.map((r) => r[2]!)),
    T: Float64Array.from(rows.map((r) => r[3]!)),
  };
}

export function cdnowSpend(): { frequency: Float64Array; monetary: Float64Array } {
  const rows = csv('cdnow_customers_summary_with_transactions.csv');
  return { frequency: Float64Array.from(rows.map((r) => r[1]!)), monetary: Float64Array.from(rows.map((r) => r[4]!)) };
}

export function donations(): { frequency: Float64Array; recency: Float64Array; periods: Float64Array; weights: Float64Array } {
  const rows = csv('donations.csv');
  return {
    frequency: Float64Array.from(rows.map((r) => r[0]!)),
    recency: Float64Array.from(rows.map((r) => r[1]!)),
    periods: Float64Array.from(rows.map((r) => r[2]!)),
    weights: Float64Array.from(rows.map((r) => r[3]!)),
  };
}

/** CDNOW_sample.txt: master_id, sample_id, YYYYMMDD, CDs, dollars. */
export function cdnowTransactions(): { id: string; date: string; amount: number }[] {
  return readFileSync(`${CDNOW_DIR}/CDNOW_sample.txt`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return { id: f[1]!, date: f[2]!, amount: Number(f[4]) };
    });
}
