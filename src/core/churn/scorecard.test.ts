import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_SCORECARD, INDICATORS, InvalidScorecardError, resolveScorecard, scorecardLevel, scorecardSql } from './scorecard.ts';
import { InvalidChurnSettingsError, resolveChurnSettings } from './settings.ts';

it('has 20+ indicators with words in both languages, defaults and levels', () => {
  assert.ok(INDICATORS.length >= 20);
  for (const d of INDICATORS) assert.ok(d.en && /[\u4e00-\u9fff]/.test(d.zh) && d.points > 0, d.key);
  assert.equal(scorecardLevel(DEFAULT_SCORECARD, 60), 'high');
  assert.equal(scorecardLevel(DEFAULT_SCORECARD, 59), 'medium');
  assert.equal(scorecardLevel(DEFAULT_SCORECARD, 29), 'low');
});

it('merges stored indicators over the defaults and refuses what makes no sense', () => {
  const c = resolveScorecard({ indicators: [{ key: 'no_purchase', threshold: 45, points: 15, enabled: true }, { key: 'coupon_only', enabled: false } as never], levels: { high: 70 } as never });
  assert.equal(c.indicators.find((i) => i.key === 'no_purchase')!.threshold, 45);
  assert.equal(c.indicators.find((i) => i.key === 'coupon_only')!.enabled, false);
  assert.deepEqual(c.levels, { high: 70, medium: 30 });
  const s = scorecardSql(c);
  assert.match(s.points, /recency_days > \(45\)/);
  // a negative threshold after a minus must not turn into a SQL comment ("--")
  assert.doesNotMatch(scorecardSql(resolveScorecard({ indicators: [{ key: 'frequency_drop', points: 10, threshold: -0.5, enabled: true }] })).points, /--/);
  assert.doesNotMatch(s.hits, /coupon_only/);
  assert.throws(() => resolveScorecard({ indicators: [{ key: 'drop table', points: 1, threshold: 1, enabled: true }] }), InvalidScorecardError);
  assert.throws(() => resolveScorecard({ indicators: [{ key: 'no_purchase', points: 500, threshold: 1, enabled: true }] }), /points/);
  assert.throws(() => resolveScorecard({ levels: { high: 20, medium: 30 } }), /levels/);
});

it('validates churn settings', () => {
  assert.equal(resolveChurnSettings(undefined).horizonDays, 90);
  assert.equal(resolveChurnSettings({ capacity: 200 }).capacity, 200);
  assert.throws(() => resolveChurnSettings({ horizonDays: 3 }), InvalidChurnSettingsError);
  assert.throws(() => resolveChurnSettings({ thresholds: { high: 0.2, medium: 0.5 } }), /thresholds/);
  assert.throws(() => resolveChurnSettings({ drivers: 0 }), /drivers/);
  assert.throws(() => resolveChurnSettings({ explainTop: -1 }), /explainTop/);
});
