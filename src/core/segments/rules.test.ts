// The rule language without a database: parse ↔ print round trips, the JSON
// form's schema, and validation errors that point at the fault.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Value from 'typebox/value';
import { LIMITS, RuleSchema } from './ast.ts';
import { BUILTIN_TAGS } from './builtin.ts';
import { parseRule } from './parser.ts';
import { explainRule, printRule } from './printer.ts';
import { checkRule, parseAndValidate, validateRule } from './validate.ts';

const EXAMPLES = [
  'tier = "D" and (orders.count(last 90 days) >= 3 or events.count(type = "login", last 7 days) = 0) and not attribute.vip = true',
  'any product (events.count(type = "product_view", last 7 days) > 3 and orders.count(last 7 days) = 0)',
  'coupon_share > 0.5',
  'orders.count(coupon = true, last 90 days) / orders.count(last 90 days) > 0.5',
  'orders.sum(amount, this month) > 10000',
  'tier = "D" and lifecycle_stage in ("at_risk", "dormant")',
  'birthday within next 7 days',
  'tickets.count(kind = "complaint", category in ("logistics", "物流"), last 30 days) > 0',
  'attribute.course_completion < 60',
  'events.count(type = "course_lesson_completed", last 365 days) / events.count(type = "course_lesson_started", last 365 days) < 0.6',
  'events.count(type = "product_view", property.product_id = "p1", last 7 days) >= 4',
  'orders.max(amount, status = "refunded", category not in ("tea"), last 730 days) >= 100',
  'events.avg(property.price, weekend = true, last 30 days) > 9.5',
  'not (city = "上海" or city is empty) and consent.sms.marketing = true',
  'membership_expires_at within next 30 days and registered_at < "2024-01-01"',
  'attribute.会员来源 = "抖音" or attribute.score != 3',
  'not not tier != "A"',
];

describe('rule text ↔ JSON', () => {
  it('parses every example, prints it back, and the printed text parses to the same JSON', () => {
    for (const text of EXAMPLES) {
      const r = parseAndValidate(text);
      assert.ok(r.ok, `${text}: ${!r.ok && JSON.stringify(r.errors)}`);
      const printed = printRule(r.value.rule);
      assert.equal(printed, text, 'canonical examples print exactly as written');
      const again = parseAndValidate(printed);
      assert.ok(again.ok);
      assert.deepEqual(again.value.rule, r.value.rule);
      assert.ok(Value.Check(RuleSchema, r.value.rule), `${text} fits the TypeBox schema`);
      // the JSON form validates on its own and prints the same text
      const json = validateRule(JSON.parse(JSON.stringify(r.value.rule)));
      assert.ok(json.ok);
      assert.equal(printRule(json.value.rule), text);
    }
  });

  it('accepts the friendly spellings and normalises them', () => {
    const r = parseAndValidate("coupon_share > 50% AND tier == 'D'\n  OR  orders.count(last 1 day) <> 10_000");
    assert.ok(r.ok);
    assert.equal(printRule(r.value.rule), 'coupon_share > 0.5 and tier = "D" or orders.count(last 1 days) != 10000');
  });

  it('keeps and/or precedence and parentheses through a round trip', () => {
    const r = parseAndValidate('tier = "A" or tier = "B" and not (orders_total = 1 or orders_total = 2)');
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.value.rule), ['or']);
    assert.equal(printRule(r.value.rule), 'tier = "A" or tier = "B" and not (orders_total = 1 or orders_total = 2)');
  });

  it('escapes strings so quotes and backslashes survive', () => {
    const r = checkRule({ left: { field: 'city' }, op: '=', value: 'a"b\\c\n\u4e2d' });
    assert.ok(r.ok);
    const back = parseAndValidate(printRule(r.value.rule));
    assert.ok(back.ok);
    assert.deepEqual(back.value.rule, r.value.rule);
  });

  it('every built-in tag is a valid rule in canonical form', () => {
    for (const b of BUILTIN_TAGS) {
      const r = parseAndValidate(b.rule);
      assert.ok(r.ok, `${b.id}: ${!r.ok && JSON.stringify(r.errors)}`);
      assert.ok(explainRule(r.value.rule, 'en').length > 0);
      assert.ok(explainRule(r.value.rule, 'zh-CN').length > 0);
    }
  });

  it('explains a rule in English and Chinese without SQL', () => {
    const r = parseAndValidate('tier = "D" and orders.sum(amount, this month) > 10000');
    assert.ok(r.ok);
    assert.equal(explainRule(r.value.rule, 'en'), 'value tier is "D" and the total amount of paid orders this month is more than 10000');
    assert.match(explainRule(r.value.rule, 'zh-CN'), /价值分层 等于 "D" 且 本月已支付订单金额合计 大于 10000/);
  });
});

describe('rule errors point at the fault', () => {
  const first = (input: unknown) => {
    const r = checkRule(input);
    assert.ok(!r.ok, 'expected an error');
    return r.errors[0]!;
  };

  it('suggests the field meant, with line and column', () => {
    const e = first('tier = "D" and\n  tierr = "C"');
    assert.equal(e.message, 'unknown field "tierr" — did you mean "tier"?');
    assert.deepEqual([e.line, e.column, e.length], [2, 3, 5]);
    assert.equal(e.path, '$.and[1].left.field');
  });

  it('names a JSON path for the JSON form', () => {
    const e = first({ and: [{ left: { field: 'tier' }, op: '=', value: 'D' }, { left: { field: 'lifecycle_stage' }, op: 'in', value: ['at_risk', 'dormnt'] }] });
    assert.equal(e.path, '$.and[1].value[1]');
    assert.match(e.message, /did you mean "dormant"/);
  });

  it('reports syntax errors at their position', () => {
    assert.deepEqual(pick(first('tier = ')), { line: 1, column: 8, message: 'expected a value (a "quoted string", a number or true/false), found the end of the rule' });
    assert.match(first('tier = D').message, /put text in quotes/);
    assert.match(first('(tier = "D"').message, /expected "\)"/);
    assert.match(first('tier = "D")').message, /no matching "\("/);
    assert.match(first('city = "unterminated').message, /not closed/);
    assert.match(first('orders.count() > 1').message, /needs a time window/);
    assert.match(first('tier ~ "D"').message, /unexpected character "~"/);
  });

  it('checks types, values, windows and limits', () => {
    assert.match(first('orders_total = "3"').message, /is a number.*drop the quotes/);
    assert.match(first('tier > "A"').message, /does not apply to text/);
    assert.match(first('tier in ()').message, /the list is empty/);
    assert.match(first('orders.count(last 731 days) > 1').message, /from 1 to 730/);
    assert.match(first('orders.sum(last 30 days) > 1').message, /needs a measure: amount, discount/);
    assert.match(first('orders.count(amount, last 30 days) > 1').message, /count takes no measure/);
    assert.match(first('events.count(typ = "login", last 7 days) > 1').message, /did you mean "type"/);
    assert.match(first('orders.cnt(last 7 days) > 1').message, /unknown function "cnt"/);
    assert.match(first('birthday within next 1000 days').message, /from 0 to 730/);
    assert.match(first('tier within next 3 days').message, /works on dates/);
    assert.match(first('orders_total > 1e300').message, /limited to/);
    assert.match(first('registered_at > "2024-02-30"').message, /not a date/);
    assert.match(first('any product (any product (orders.count(last 7 days) > 0))').message, /cannot be nested/);
    assert.match(first('any product (tickets.count(last 7 days) > 0)').message, /only orders and events/);
    assert.match(first({ left: { field: 'tier' }, op: '=', value: 'D', extra: 1 }).message, /unexpected property "extra"/);
    assert.match(first({ left: { field: 'city' }, op: 'like', value: '%' }).message, /unknown operator "like"/);
    assert.match(first({ left: { field: 'attribute.x; drop table customers' }, op: '=', value: 1 }).message, /not an attribute name/);
    const deep = `${'not '.repeat(LIMITS.maxDepth + 1)}tier = "A"`;
    assert.match(first(deep).message, /nests deeper/);
    const deepParens = `${'('.repeat(3000)}tier = "A"${')'.repeat(3000)}`;
    assert.match(first(deepParens).message, /nests deeper/);
    const many = Array.from({ length: LIMITS.maxConditions + 1 }, (_, i) => `orders_total = ${i}`).join(' or ');
    assert.match(first(many).message, /at most 64/);
    assert.match(first('x'.repeat(LIMITS.maxTextLength + 1)).message, /longer than/);
  });

  it('an attribute reads as the type of the value it is compared with', () => {
    const r = parseRule('attribute.vip = true and attribute.score >= 3 and attribute.level in ("gold")');
    assert.deepEqual(
      (r.rule as { and: { left: { type: string } }[] }).and.map((c) => c.left.type),
      ['boolean', 'number', 'string'],
    );
  });
});

function pick(e: { line?: number; column?: number; message: string }) {
  return { line: e.line, column: e.column, message: e.message };
}
