// The sentence for each finding, in English and Simplified Chinese. A finding
// carries its code and parameters; the sentence is rendered from this table.
export type Locale = 'en' | 'zh-CN';
export const LOCALES: readonly Locale[] = ['en', 'zh-CN'];

export type FindingCode =
  | 'no_data'
  | 'stub_customers'
  | 'duplicate_phone'
  | 'duplicate_email'
  | 'refunds'
  | 'outlier_orders'
  | 'missing_registered_at'
  | 'missing_birthday'
  | 'future_birthdays'
  | 'future_registered_at'
  | 'future_orders'
  | 'orders_before_2000'
  | 'future_events'
  | 'future_tickets'
  | 'future_survey_responses'
  | 'orphan_order_lines'
  | 'order_amount_mismatch'
  | 'low_completeness';

export type FindingParams = Record<string, string | number>;

const fmt = (locale: Locale, v: string | number | undefined): string =>
  typeof v === 'number' ? v.toLocaleString(locale === 'zh-CN' ? 'zh-CN' : 'en', { maximumFractionDigits: 2 }) : String(v ?? '');

type Render = (p: FindingParams, f: (v: string | number | undefined) => string) => string;

/** "1 order", "3 orders" (English only; Chinese has no plural). */
const n = (v: string | number | undefined, one: string, many = `${one}s`) => `${fmtEn(v)} ${Number(v) === 1 ? one : many}`;
const fmtEn = (v: string | number | undefined) => (typeof v === 'number' ? v.toLocaleString('en', { maximumFractionDigits: 2 }) : String(v ?? ''));

export const MESSAGES: Record<FindingCode, Record<Locale, Render>> = {
  no_data: {
    en: () => 'There is no data yet. Import customers and orders (`liuke import`) or load the demo business.',
    'zh-CN': () => '还没有数据。请导入客户和订单（`liuke import`），或加载演示数据。',
  },
  stub_customers: {
    en: (p, f) =>
      `${n(p.count, 'customer')} (${f(p.percent)}%) ${Number(p.count) === 1 ? 'exists' : 'exist'} only because an order, event, ticket or survey named an unknown customer id; they have no contact data. Import your customer list (CRM or membership export) to fill them in.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.count)} 位客户（${f(p.percent)}%）只是因为订单、行为、工单或问卷引用了未知的客户编号而自动创建，没有任何联系信息。请导入客户名单（CRM 或会员导出）补全。`,
  },
  duplicate_phone: {
    en: (p) =>
      `${n(p.groups, 'phone number')} ${Number(p.groups) === 1 ? 'is' : 'are'} shared by ${n(p.customers, 'customer')} under different ids, so one person may be counted several times. Review them with \`liuke customers duplicates --by phone\` and merge with \`liuke customers merge\`.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.groups)} 个手机号被 ${f(p.customers)} 个不同编号的客户共用，同一个人可能被重复计算。请用 \`liuke customers duplicates --by phone\` 查看，并用 \`liuke customers merge\` 合并。`,
  },
  duplicate_email: {
    en: (p) =>
      `${n(p.groups, 'email address', 'email addresses')} (ignoring case) ${Number(p.groups) === 1 ? 'is' : 'are'} shared by ${n(p.customers, 'customer')} under different ids. Review them with \`liuke customers duplicates --by email\` and merge with \`liuke customers merge\`.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.groups)} 个邮箱（不区分大小写）被 ${f(p.customers)} 个不同编号的客户共用。请用 \`liuke customers duplicates --by email\` 查看，并用 \`liuke customers merge\` 合并。`,
  },
  refunds: {
    en: (p, f) =>
      `${n(p.orders, 'order')} (${f(p.percent)}% of orders, ${f(p.amountPercent)}% of the amount) ${Number(p.orders) === 1 ? 'is' : 'are'} refunded or returned. Spend measures should leave them out; a share above ${f(p.warnPercent)}% often means the status column was mapped wrongly.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.orders)} 笔订单（占订单数 ${f(p.percent)}%、金额 ${f(p.amountPercent)}%）已退款或退货，消费类指标应将其排除；若占比超过 ${f(p.warnPercent)}%，通常是订单状态列映射有误。`,
  },
  outlier_orders: {
    en: (p, f) =>
      `${n(p.count, 'order')} ${Number(p.count) === 1 ? 'is' : 'are'} above ${f(p.threshold)}, far beyond the usual range (the largest is ${f(p.max)}). Check them for typos such as fen entered as yuan, test orders or bulk purchases before they inflate spend and CLV.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.count)} 笔订单金额超过 ${f(p.threshold)}，远高于正常范围（最大 ${f(p.max)}）。请检查是否为录入错误（如把分当成元）、测试订单或批发采购，以免抬高消费额和客户终身价值。`,
  },
  missing_registered_at: {
    en: (p, f) =>
      `${n(p.count, 'customer')} (${f(p.percent)}%) ${Number(p.count) === 1 ? 'has' : 'have'} no registration date; tenure and new-customer rules cannot use them. Map the registration or join-date column in your customer import.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.count)} 位客户（${f(p.percent)}%）缺少注册日期，客龄和新客规则无法使用他们。请在客户导入时映射注册或入会日期列。`,
  },
  missing_birthday: {
    en: (p, f) =>
      `${n(p.count, 'customer')} (${f(p.percent)}%) ${Number(p.count) === 1 ? 'has' : 'have'} no birthday; birthday campaigns will skip them. Collect it at sign-up if you want to use it.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 位客户（${f(p.percent)}%）没有生日信息，生日营销会跳过他们。如需使用，请在注册时收集。`,
  },
  future_birthdays: {
    en: (p) => `${n(p.count, 'customer')} ${Number(p.count) === 1 ? 'has' : 'have'} a birthday in the future. Check the date format (day/month order, two-digit years) in the import.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 位客户的生日在未来。请检查导入时的日期格式（日月顺序、两位年份）。`,
  },
  future_registered_at: {
    en: (p) => `${n(p.count, 'customer')} registered after the report time. Check the date format and time zone of the registration column.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 位客户的注册时间晚于当前时间。请检查注册日期列的格式和时区。`,
  },
  future_orders: {
    en: (p) =>
      `${n(p.count, 'order')} ${Number(p.count) === 1 ? 'is' : 'are'} dated after the report time; recency and churn scores would be wrong for the customers concerned. Check the date format and time zone of the order time column and re-import.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 笔订单的时间晚于当前时间，相关客户的最近消费和流失评分会出错。请检查订单时间列的格式和时区后重新导入。`,
  },
  orders_before_2000: {
    en: (p) =>
      `${n(p.count, 'order')} ${Number(p.count) === 1 ? 'is' : 'are'} dated before 2000, usually a date read in the wrong format or an empty date turned into 1970. Fix the order time column and re-import.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 笔订单的日期早于 2000 年，通常是日期格式解析错误或空日期被当成 1970 年。请修正订单时间列后重新导入。`,
  },
  future_events: {
    en: (p) => `${n(p.count, 'behavioural event')} ${Number(p.count) === 1 ? 'is' : 'are'} dated after the report time. Check the clock or time zone of the system that sends them.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 条行为事件的时间晚于当前时间。请检查发送方系统的时钟或时区。`,
  },
  future_tickets: {
    en: (p) => `${n(p.count, 'ticket')} ${Number(p.count) === 1 ? 'was' : 'were'} created after the report time. Check the date format and time zone of the ticket export.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 张工单的创建时间晚于当前时间。请检查工单导出的日期格式和时区。`,
  },
  future_survey_responses: {
    en: (p) => `${n(p.count, 'survey response')} ${Number(p.count) === 1 ? 'is' : 'are'} dated after the report time. Check the date format and time zone of the survey export.`,
    'zh-CN': (p, f) => `有 ${f(p.count)} 份问卷回复的时间晚于当前时间。请检查问卷导出的日期格式和时区。`,
  },
  orphan_order_lines: {
    en: (p) =>
      `${n(p.lines, 'order line')} ${Number(p.lines) === 1 ? 'points' : 'point'} to ${n(p.orders, 'order')} that ${Number(p.orders) === 1 ? 'does' : 'do'} not exist (for example ${p.example}); product and category analyses miss them. Import the matching orders, or check that the order id column is the same in both files.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.lines)} 条订单明细指向 ${f(p.orders)} 个不存在的订单（例如 ${p.example}），商品和品类分析会漏掉它们。请导入对应订单，或检查两个文件中的订单编号列是否一致。`,
  },
  order_amount_mismatch: {
    en: (p, f) =>
      `${n(p.count, 'order')} ${Number(p.count) === 1 ? 'has' : 'have'} an amount that differs from the sum of their lines by more than ${f(p.tolerancePercent)}% (at least ${f(p.toleranceAbs)}), even allowing for the discount (for example ${p.example}). Check whether the amount column holds the paid total and the lines hold unit prices.`,
    'zh-CN': (p, f) =>
      `有 ${f(p.count)} 笔订单的金额与明细合计相差超过 ${f(p.tolerancePercent)}%（至少 ${f(p.toleranceAbs)}），扣除折扣后仍不一致（例如 ${p.example}）。请检查金额列是否为实付总额、明细价格是否为单价。`,
  },
  low_completeness: {
    en: (p, f) =>
      `Customer profiles are ${f(p.percent)}% complete; the emptiest fields are ${p.fields}. Map these columns in the customer import, or collect them at sign-up; segments and models can only use what is there.`,
    'zh-CN': (p, f) =>
      `客户资料完整度为 ${f(p.percent)}%，最缺的字段是 ${p.fields}。请在客户导入时映射这些列，或在注册时收集；分群和模型只能利用已有的数据。`,
  },
};

export function renderFinding(code: FindingCode, params: FindingParams, locale: Locale = 'en'): string {
  const m = MESSAGES[code];
  return (m[locale] ?? m.en)(params, (v) => fmt(locale, v));
}

/** Labels for the terminal report. */
export const LABELS: Record<Locale, Record<string, string>> = {
  en: {
    title: 'Data quality',
    counts: 'Counts',
    duplicates: 'Duplicate identities',
    refunds: 'Refunds and returns',
    outliers: 'Outlier orders',
    dates: 'Dates',
    lines: 'Order lines',
    completeness: 'Completeness',
    findings: 'Findings',
    none: 'No problems found.',
    overall: 'overall',
    groups: 'groups',
    customers: 'customers',
    threshold: 'threshold',
    skipped: 'not enough orders to judge',
  },
  'zh-CN': {
    title: '数据质量',
    counts: '数量',
    duplicates: '重复身份',
    refunds: '退款与退货',
    outliers: '异常订单',
    dates: '日期',
    lines: '订单明细',
    completeness: '完整度',
    findings: '发现的问题',
    none: '未发现问题。',
    overall: '总体',
    groups: '组',
    customers: '位客户',
    threshold: '阈值',
    skipped: '订单太少，无法判断',
  },
};
