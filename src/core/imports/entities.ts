// What each importable entity is made of: its table, key, and fields with their
// SQL type, whether they are required, and how a cell is normalised. Column
// names here are the only identifiers that reach SQL (a whitelist).
import * as n from './normalize.ts';

export const ENTITIES = ['customers', 'orders', 'order-lines', 'products', 'events', 'tickets', 'surveys'] as const;
export type ImportEntity = (typeof ENTITIES)[number];

export type SqlType = 'text' | 'timestamptz' | 'date' | 'numeric' | 'integer' | 'jsonb';

export interface FieldSpec {
  /** Field name (what a mapping file names) = column name. */
  name: string;
  sqlType: SqlType;
  required?: boolean;
  /** Normalises a non-empty cell; returns the text to load or null. Throws RowError. */
  normalize?: (raw: string) => string | null;
  /** Loaded when the cell is empty (for NOT NULL columns with a default). */
  whenEmpty?: string;
  /**
   * How the raw CSV path (fast.ts) checks and converts a cell in SQL: only
   * spellings whose result is certainly what `normalize` gives; any other cell
   * goes through `normalize` in Node. A field without it keeps its entity on
   * the Node path.
   */
  fast?: FastRule;
}

/** text: kept when it has no surrounding space; timestamptz: YYYY-MM-DD[ HH:MM[:SS]]; amount: plain decimals; words: exact enum words. */
export type FastRule = 'text' | 'timestamptz' | 'amount' | { words: ReadonlyMap<string, string | null> };

/** The exact words an enum parser knows, with what each becomes. */
function words(p: n.EnumParser): FastRule {
  return { words: new Map(p.words.map((w) => [w, p(w)])) };
}

export interface EntitySpec {
  entity: ImportEntity;
  table: string;
  /** Key fields (with workspace_id, the primary key). */
  key: string[];
  fields: FieldSpec[];
  /** customers: unknown headers become custom attributes. */
  attributes?: boolean;
  /** events: without a message id column, the id is a hash of the row. */
  hashKey?: boolean;
  /** order lines: without a line number column, lines are numbered per order in file order. */
  lineNumbers?: boolean;
  /** Has a customer_id that may create a stub customer. */
  customerRef?: boolean;
  /** Has updated_at to touch on change. */
  updatedAt?: boolean;
  /** A row must have at least one of these. */
  oneOf?: string[];
}

const text = (name: string, required = false): FieldSpec => ({ name, sqlType: 'text', required, normalize: (s) => s.trim() || null, fast: 'text' });
const ts = (name: string, required = false): FieldSpec => ({ name, sqlType: 'timestamptz', required, normalize: n.parseDateTime, fast: 'timestamptz' });
const amount = (name: string, o: { required?: boolean; whenEmpty?: string } = {}): FieldSpec => ({
  name,
  sqlType: 'numeric',
  normalize: n.parseAmount,
  fast: 'amount',
  ...o,
});

const EVENT_TYPES = n.enumParser('event type', {
  login: ['登录', '登陆', 'signin', 'sign in'],
  page_view: ['浏览', '页面浏览', '访问页面', 'pageview', 'page'],
  product_view: ['商品浏览', '浏览商品', '查看商品', 'view product', 'productview'],
  add_to_cart: ['加购', '加入购物车', 'addtocart', 'add to cart'],
  search: ['搜索'],
  visit: ['到店', '到访', '进店'],
  course_lesson_completed: ['完成课程', '完课'],
  feature_used: ['使用功能', '功能使用'],
});

/** Known event words become their canonical type; anything else is kept as written. */
function eventType(raw: string): string {
  try {
    return EVENT_TYPES(raw) ?? raw.trim();
  } catch {
    return raw.trim();
  }
}

export const SPECS: Record<ImportEntity, EntitySpec> = {
  customers: {
    entity: 'customers',
    table: 'customers',
    key: ['id'],
    attributes: true,
    updatedAt: true,
    fields: [
      text('id', true),
      text('name'),
      { name: 'phone', sqlType: 'text', normalize: n.normalizePhone },
      { name: 'email', sqlType: 'text', normalize: n.normalizeEmail },
      { name: 'gender', sqlType: 'text', normalize: n.parseGender },
      { name: 'birthday', sqlType: 'date', normalize: n.parseDate },
      text('region'),
      text('city'),
      text('time_zone'),
      ts('registered_at'),
      text('acquisition_channel'),
      text('membership_level'),
      ts('membership_expires_at'),
      text('owner'),
      text('preferred_channel'),
    ],
  },
  orders: {
    entity: 'orders',
    table: 'orders',
    key: ['id'],
    customerRef: true,
    updatedAt: true,
    fields: [
      text('id', true),
      text('customer_id', true),
      ts('ordered_at', true),
      amount('amount', { required: true }),
      amount('discount', { whenEmpty: '0' }),
      text('coupon_code'),
      { name: 'status', sqlType: 'text', normalize: n.parseOrderStatus, whenEmpty: 'paid', fast: words(n.parseOrderStatus) },
      text('store'),
      text('channel'),
    ],
  },
  'order-lines': {
    entity: 'order-lines',
    table: 'order_lines',
    key: ['order_id', 'line_no'],
    lineNumbers: true,
    fields: [
      text('order_id', true),
      { name: 'line_no', sqlType: 'integer', normalize: (s) => n.parseIntIn(s, 1, 1_000_000, 'line number') },
      text('product_id'),
      text('category'),
      { name: 'quantity', sqlType: 'numeric', normalize: n.parseQuantity, whenEmpty: '1' },
      amount('price', { required: true }),
    ],
  },
  products: {
    entity: 'products',
    table: 'products',
    key: ['id'],
    updatedAt: true,
    fields: [text('id', true), text('name'), text('category'), amount('price')],
  },
  events: {
    entity: 'events',
    table: 'events',
    key: ['message_id'],
    hashKey: true,
    customerRef: true,
    oneOf: ['customer_id', 'anonymous_id'],
    fields: [
      text('message_id'),
      text('customer_id'),
      text('anonymous_id'),
      { name: 'type', sqlType: 'text', required: true, normalize: eventType },
      ts('occurred_at', true),
      { name: 'properties', sqlType: 'jsonb', normalize: n.parseJsonObject, whenEmpty: '{}' },
    ],
  },
  tickets: {
    entity: 'tickets',
    table: 'tickets',
    key: ['id'],
    customerRef: true,
    updatedAt: true,
    fields: [
      text('id', true),
      text('customer_id'),
      { name: 'kind', sqlType: 'text', normalize: n.parseTicketKind, whenEmpty: 'complaint' },
      text('category'),
      { name: 'priority', sqlType: 'text', normalize: n.parsePriority, whenEmpty: 'general' },
      { name: 'status', sqlType: 'text', normalize: n.parseTicketStatus, whenEmpty: 'open' },
      text('channel'),
      text('subject'),
      text('body'),
      text('owner'),
      ts('created_at', true),
      ts('first_response_at'),
      ts('resolved_at'),
      ts('due_at'),
      { name: 'csat', sqlType: 'integer', normalize: (s) => n.parseIntIn(s, 1, 5, 'CSAT') },
    ],
  },
  surveys: {
    entity: 'surveys',
    table: 'survey_responses',
    key: ['id'],
    customerRef: true,
    updatedAt: true,
    fields: [
      text('id', true),
      text('customer_id'),
      { name: 'survey', sqlType: 'text', normalize: (s) => s.trim() || null, whenEmpty: 'nps' },
      ts('responded_at', true),
      { name: 'nps', sqlType: 'integer', normalize: (s) => n.parseIntIn(s, 0, 10, 'NPS') },
      { name: 'csat', sqlType: 'integer', normalize: (s) => n.parseIntIn(s, 1, 5, 'CSAT') },
      text('churn_reason'),
      text('text'),
    ],
  },
};

export function isEntity(s: string): s is ImportEntity {
  return (ENTITIES as readonly string[]).includes(s);
}
