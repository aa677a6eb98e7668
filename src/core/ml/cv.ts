// Cross-validation splits: stratified K-fold with a fixed seed, and a time-based split.
import { rng, shuffle } from './matrix.ts';

export interface Fold {
  train: Uint32Array;
  test: Uint32Array;
}

/** K folds with (nearly) the same share of positives in each; the same seed gives the same folds. */
export function stratifiedKFold(y: ArrayLike<number>, k: number, seed = 1): Fold[] {
  const rand = rng(seed);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i]! > 0.5 ? pos : neg).push(i);
  const foldOf = new Int32Array(y.length);
  // deal each class round-robin after shuffling, so each fold gets its share
  let next = 0;
  for (const group of [shuffle(Uint32Array.from(pos), rand), shuffle(Uint32Array.from(neg), rand)]) {
    for (const i of group) {
      foldOf[i] = next;
      next = (next + 1) % k;
    }
  }
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < y.length; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train: Uint32Array.from(train), test: Uint32Array.from(test) });
  }
  return folds;
}

/** One stratified holdout: `fraction` of rows go to the validation side. */
export function stratifiedHoldout(y: ArrayLike<number>, fraction: number, seed = 1): Fold {
  const rand = rng(seed);
  const train: number[] = [];
  const test: number[] = [];
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i]! > 0.5 ? pos : neg).push(i);
  for (const group of [pos, neg]) {
    shuffle(group as unknown as Uint32Array, rand);
    const nTest = Math.round(group.length * fraction);
    group.forEach((i, k) => {
      (k < nTest ? test : train).push(i);
    });
  }
  return { train: Uint32Array.from(train.sort((a, b) => a - b)), test: Uint32Array.from(test.sort((a, b) => a - b)) };
}

export interface TimeSplit extends Fold {
  /** the cut-offs trained on (older) and tested on (newest) */
  trainCutoffs: (string | number)[];
  testCutoffs: (string | number)[];
}

/**
 * Train on older cut-offs, test on the newest: rows are grouped by their value
 * in the cut-off column (dates as ISO text or numbers sort correctly);
 * the last `testCutoffs` distinct values form the test side.
 */
export function timeSplit(cutoff: ArrayLike<string | number>, testCutoffs = 1): TimeSplit {
  const distinct = [...new Set(Array.from(cutoff))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (distinct.length < 2) throw new Error('a time-based split needs at least two distinct cut-offs');
  const nTest = Math.min(Math.max(1, testCutoffs), distinct.length - 1);
  const testSet = new Set(distinct.slice(-nTest));
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < cutoff.length; i++) (testSet.has(cutoff[i]!) ? test : train).push(i);
  return { train: Uint32Array.from(train), test: Uint32Array.from(test), trainCutoffs: distinct.slice(0, -nTest), testCutoffs: distinct.slice(-nTest) };
}
