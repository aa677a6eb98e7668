// The store's expected purchases are src/core/clv's conditional expectation
// (BG/NBD or Pareto/NBD); this name stays for the predictions' callers and tests.
export { conditionalExpected as expectedPurchases } from '../clv/clv.ts';
