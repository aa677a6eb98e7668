// The built-in behaviour tags of SPEC §2, seeded into every workspace. They
// can be disabled, and their rule edited, but not deleted (a later seed would
// bring them back). Ids are stable, so automations can refer to them.
export interface BuiltinTag {
  id: string;
  name: string;
  name_zh: string;
  description: string;
  rule: string;
}

export const BUILTIN_TAGS: readonly BuiltinTag[] = [
  { id: 'first_purchase_only', name: 'First purchase only', name_zh: '仅首购', description: 'Exactly one paid order so far.', rule: 'orders_total = 1' },
  {
    id: 'high_frequency_interaction',
    name: 'High-frequency interaction',
    name_zh: '高频互动',
    description: '20 or more behavioural events in the last 30 days.',
    rule: 'events_30d >= 20',
  },
  {
    id: 'low_frequency_use',
    name: 'Low-frequency use',
    name_zh: '低频使用',
    description: 'Still seen, but only 1–3 events in the last 30 days.',
    rule: 'events_30d >= 1 and events_30d <= 3',
  },
  {
    id: 'weekend_active',
    name: 'Weekend active',
    name_zh: '周末活跃',
    description: 'At least 3 events in the last 30 days, 60% or more of them on Saturdays and Sundays (workspace time zone).',
    rule: 'events.count(weekend = true, last 30 days) >= 3 and events.count(weekend = true, last 30 days) / events.count(last 30 days) >= 60%',
  },
  {
    id: 'price_sensitive',
    name: 'Price sensitive',
    name_zh: '价格敏感',
    description: 'More than half of the paid orders in the RFM window used a coupon or a discount.',
    rule: 'coupon_share > 50%',
  },
  {
    id: 'complained_logistics',
    name: 'Complained about logistics',
    name_zh: '投诉过物流',
    description: 'A complaint ticket about logistics or delivery in the last 30 days.',
    rule: 'tickets.count(kind = "complaint", category in ("logistics", "delivery", "shipping", "物流", "配送", "快递"), last 30 days) > 0',
  },
  {
    id: 'viewed_not_ordered',
    name: 'Viewed a product > 3 times without ordering',
    name_zh: '多次浏览未下单',
    description: 'Some product viewed 4 or more times in the last 7 days with no paid order of it in those days.',
    rule: 'any product (events.count(type = "product_view", last 7 days) > 3 and orders.count(last 7 days) = 0)',
  },
  {
    id: 'course_completion_low',
    name: 'Course completion < 60%',
    name_zh: '课程完成率低于 60%',
    description: 'Lessons completed per lesson started in the last 365 days below 60%.',
    rule: 'events.count(type = "course_lesson_started", last 365 days) > 0 and events.count(type = "course_lesson_completed", last 365 days) / events.count(type = "course_lesson_started", last 365 days) < 60%',
  },
  {
    id: 'monthly_spend_10k',
    name: 'Monthly spend > 10,000',
    name_zh: '本月消费超 1 万',
    description: 'Paid orders this calendar month add up to more than 10,000.',
    rule: 'orders.sum(amount, this month) > 10000',
  },
  { id: 'birthday_next_7_days', name: 'Birthday within 7 days', name_zh: '7 天内生日', description: 'Birthday today or in the next 7 days.', rule: 'birthday within next 7 days' },
  { id: 'tier_a_core', name: 'Tier A: core, high value', name_zh: 'A 类：核心高价值', description: 'Value tier A.', rule: 'tier = "A"' },
  { id: 'tier_b_growth', name: 'Tier B: growth potential', name_zh: 'B 类：成长潜力', description: 'Value tier B.', rule: 'tier = "B"' },
  { id: 'tier_d_warning', name: 'Tier D: churn warning', name_zh: 'D 类：流失预警', description: 'Value tier D.', rule: 'tier = "D"' },
  {
    id: 'tier_d_slipping',
    name: 'Tier D, at risk or dormant',
    name_zh: 'D 类且有流失风险或沉睡',
    description: 'Win-back candidates: tier D in the at-risk or dormant stage.',
    rule: 'tier = "D" and lifecycle_stage in ("at_risk", "dormant")',
  },
  { id: 'stage_new', name: 'New customers', name_zh: '新客', description: 'Lifecycle stage new.', rule: 'lifecycle_stage = "new"' },
  { id: 'stage_at_risk', name: 'At risk', name_zh: '有流失风险', description: 'Lifecycle stage at_risk.', rule: 'lifecycle_stage = "at_risk"' },
  { id: 'stage_dormant', name: 'Dormant', name_zh: '沉睡客户', description: 'Lifecycle stage dormant.', rule: 'lifecycle_stage = "dormant"' },
  { id: 'stage_churned', name: 'Churned', name_zh: '已流失', description: 'Lifecycle stage churned.', rule: 'lifecycle_stage = "churned"' },
];
