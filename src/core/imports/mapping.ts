// Which header feeds which field: common English and Chinese headers per
// entity, matched ignoring case, spaces, underscores, hyphens and a unit in
// brackets ("订单金额(元)"), overridden by an explicit mapping file
// ({"source header": "field"}).
import { ImportFileError } from './reader.ts';
import { type ImportEntity, SPECS } from './entities.ts';
import { squash } from './normalize.ts';

const CUSTOMER_REF = ['customer_id', 'customerid', 'customer', 'user_id', 'userid', 'member_id', 'memberid', '客户ID', '客户编号', '客户号', '会员号', '会员ID', '会员编号', '会员卡号', '用户ID', '用户编号'];

/** Synonyms per entity and field, earliest first: when two headers match one field, the earlier synonym wins. */
export const SYNONYMS: Record<ImportEntity, Record<string, readonly string[]>> = {
  customers: {
    id: ['id', ...CUSTOMER_REF],
    name: ['name', 'full_name', 'customer_name', '姓名', '客户姓名', '会员姓名', '名字', '客户名称', '昵称'],
    phone: ['phone', 'mobile', 'phone_number', 'mobile_phone', 'tel', 'telephone', '手机号', '手机', '手机号码', '电话', '联系电话', '电话号码'],
    email: ['email', 'e-mail', 'email_address', 'mail', '邮箱', '电子邮箱', '邮件', '电子邮件'],
    gender: ['gender', 'sex', '性别'],
    birthday: ['birthday', 'birth_date', 'date_of_birth', 'dob', '生日', '出生日期'],
    region: ['region', 'province', 'state', '省份', '地区', '省', '区域', '所在地区'],
    city: ['city', '城市', '所在城市'],
    time_zone: ['time_zone', 'timezone', 'tz', '时区'],
    registered_at: ['registered_at', 'signup_date', 'signup_at', 'registration_date', 'created_at', 'join_date', '注册时间', '注册日期', '入会时间', '开卡时间', '加入时间'],
    acquisition_channel: ['acquisition_channel', 'channel', 'source', 'signup_channel', '渠道', '来源', '来源渠道', '注册渠道', '获客渠道'],
    membership_level: ['membership_level', 'level', 'tier', 'member_level', '会员等级', '等级', '会员级别'],
    membership_expires_at: ['membership_expires_at', 'expires_at', 'expiry_date', 'expiration_date', '到期时间', '到期日期', '会员到期时间', '有效期至'],
    owner: ['owner', 'account_manager', 'assigned_to', '负责人', '客户经理', '专属顾问', '归属员工'],
    preferred_channel: ['preferred_channel', '偏好渠道', '首选渠道'],
  },
  orders: {
    id: ['id', 'order_id', 'orderid', 'order_no', 'order_number', '订单号', '订单编号', '订单ID', '单号'],
    customer_id: CUSTOMER_REF,
    ordered_at: ['ordered_at', 'order_date', 'order_time', 'created_at', 'date', 'time', 'paid_at', '下单时间', '订单时间', '下单日期', '订单日期', '支付时间', '付款时间', '交易时间', '日期'],
    amount: ['amount', 'total', 'order_amount', 'paid_amount', 'total_amount', 'revenue', '实付金额', '订单金额', '实收金额', '支付金额', '付款金额', '金额', '消费金额', '成交金额'],
    discount: ['discount', 'discount_amount', '优惠金额', '折扣金额', '优惠', '折扣'],
    coupon_code: ['coupon_code', 'coupon', 'voucher', 'promo_code', '优惠券', '优惠券码', '券码', '优惠码'],
    status: ['status', 'order_status', '订单状态', '状态'],
    store: ['store', 'shop', 'store_name', 'store_id', '门店', '店铺', '门店名称', '门店编号'],
    channel: ['channel', 'sales_channel', '渠道', '销售渠道', '下单渠道'],
  },
  'order-lines': {
    order_id: ['order_id', 'orderid', 'order_no', 'order_number', 'order', '订单号', '订单编号', '订单ID', '单号'],
    line_no: ['line_no', 'line', 'line_number', 'item_no', '行号', '序号', '明细行号'],
    product_id: ['product_id', 'productid', 'sku', 'sku_id', 'item_id', 'product', '商品ID', '商品编号', '商品编码', '货号', 'SKU编码'],
    category: ['category', 'product_category', '品类', '类目', '商品类目', '商品品类', '分类'],
    quantity: ['quantity', 'qty', 'count', '数量', '购买数量', '件数'],
    price: ['price', 'unit_price', '单价', '商品单价', '销售单价', '成交单价'],
  },
  products: {
    id: ['id', 'product_id', 'productid', 'sku', 'sku_id', 'item_id', '商品ID', '商品编号', '商品编码', '货号', 'SKU编码'],
    name: ['name', 'product_name', 'title', '商品名称', '商品名', '名称', '品名'],
    category: ['category', 'product_category', '品类', '类目', '商品类目', '商品品类', '分类'],
    price: ['price', 'unit_price', 'list_price', '价格', '单价', '售价', '零售价', '标价'],
  },
  events: {
    message_id: ['message_id', 'messageid', 'event_id', 'eventid', '事件ID', '事件编号'],
    customer_id: CUSTOMER_REF,
    anonymous_id: ['anonymous_id', 'anonymousid', 'device_id', 'visitor_id', '匿名ID', '设备ID', '访客ID'],
    type: ['type', 'event', 'event_type', 'event_name', 'action', '事件类型', '事件', '事件名称', '行为', '行为类型'],
    occurred_at: ['occurred_at', 'timestamp', 'time', 'event_time', 'date', 'created_at', '发生时间', '事件时间', '时间', '行为时间'],
    properties: ['properties', 'props', 'attributes', '属性', '事件属性'],
  },
  tickets: {
    id: ['id', 'ticket_id', 'ticketid', 'ticket_no', 'case_id', '工单号', '工单编号', '工单ID'],
    customer_id: CUSTOMER_REF,
    kind: ['kind', 'type', 'ticket_type', '类型', '工单类型'],
    category: ['category', 'topic', 'issue_type', '分类', '问题分类', '问题类型'],
    priority: ['priority', '优先级', '紧急程度'],
    status: ['status', 'state', '状态', '工单状态', '处理状态'],
    channel: ['channel', 'source', '渠道', '来源'],
    subject: ['subject', 'title', 'summary', '标题', '主题'],
    body: ['body', 'description', 'content', 'details', '内容', '描述', '问题描述', '工单内容'],
    owner: ['owner', 'assignee', 'agent', '负责人', '处理人', '客服'],
    created_at: ['created_at', 'opened_at', 'created', 'date', '创建时间', '提交时间', '发生时间', '时间'],
    first_response_at: ['first_response_at', 'responded_at', '首次响应时间', '响应时间'],
    resolved_at: ['resolved_at', 'closed_at', 'solved_at', '解决时间', '关闭时间', '完成时间'],
    due_at: ['due_at', 'due_date', 'sla_due', '截止时间', '到期时间'],
    csat: ['csat', 'satisfaction', '满意度', '满意度评分'],
  },
  surveys: {
    id: ['id', 'response_id', 'survey_response_id', '问卷编号', '答卷编号', '回复ID', '编号'],
    customer_id: CUSTOMER_REF,
    survey: ['survey', 'survey_name', '问卷', '问卷名称'],
    responded_at: ['responded_at', 'submitted_at', 'response_date', 'date', 'time', 'created_at', '提交时间', '填写时间', '回复时间', '时间', '日期'],
    nps: ['nps', 'nps_score', 'recommend_score', '推荐值', '推荐度', 'NPS评分', '净推荐值'],
    csat: ['csat', 'satisfaction', 'csat_score', '满意度', '满意度评分'],
    churn_reason: ['churn_reason', 'reason', 'cancel_reason', '流失原因', '原因', '离开原因'],
    text: ['text', 'comment', 'feedback', 'comments', 'verbatim', '评价内容', '评价', '意见', '反馈内容', '备注'],
  },
};

/** Header text as compared: lower-case, no spaces/underscores/hyphens, no unit in brackets. */
export function headerKey(h: string): string {
  return squash(h.replace(/[(（[【][^)）\]】]*[)）\]】]\s*$/, ''));
}

export interface Mapping {
  /** Column index → field, for the columns imported as fields. */
  fields: Map<number, string>;
  /** Column index → attribute name (customers' unknown headers). */
  attributes: Map<number, string>;
  /** Headers not imported, with why. */
  ignored: { header: string; reason: string }[];
  /** header → field, for the report. */
  byHeader: Record<string, string>;
}

/** An explicit mapping file: {"source header": "field"}; a null or "" field ignores the column. */
export type ExplicitMapping = Record<string, string | null>;

export function parseMappingJson(text: string, where: string): ExplicitMapping {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ImportFileError(`mapping ${where} is not valid JSON: ${(e as Error).message}`, 'bad_mapping');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ImportFileError(`mapping ${where} must be a JSON object {"source header": "field"}`, 'bad_mapping');
  }
  for (const [k, f] of Object.entries(v)) {
    if (f !== null && typeof f !== 'string') throw new ImportFileError(`mapping ${where}: the field for ${JSON.stringify(k)} must be a string or null`, 'bad_mapping');
  }
  return v as ExplicitMapping;
}

export function resolveMapping(entity: ImportEntity, headers: readonly string[], explicit: ExplicitMapping = {}): Mapping {
  const spec = SPECS[entity];
  const fieldNames = spec.fields.map((f) => f.name);
  const fields = new Map<number, string>();
  const attributes = new Map<number, string>();
  const ignored: { header: string; reason: string }[] = [];
  const byHeader: Record<string, string> = {};

  // Explicit entries first, by exact header, then ignoring case and spacing.
  const explicitByKey = new Map<string, string | null>();
  for (const [h, f] of Object.entries(explicit)) {
    if (f && !fieldNames.includes(f)) {
      throw new ImportFileError(`mapping names an unknown ${entity} field ${JSON.stringify(f)} (for ${JSON.stringify(h)}); the fields are: ${fieldNames.join(', ')}`, 'bad_mapping');
    }
    explicitByKey.set(headerKey(h), f || null);
  }
  const unmatchedExplicit = new Set(explicitByKey.keys());

  const syn = SYNONYMS[entity];
  const rank = new Map<string, { field: string; rank: number }>();
  for (const [field, words] of Object.entries(syn)) {
    words.forEach((w, i) => {
      const k = headerKey(w);
      const prev = rank.get(k);
      if (!prev || i < prev.rank) rank.set(k, { field, rank: i });
    });
  }

  // field → the column that feeds it and how well it matched (explicit beats any synonym).
  const chosen = new Map<string, { col: number; rank: number }>();
  const candidates: { col: number; field: string; rank: number }[] = [];
  headers.forEach((h, col) => {
    const k = headerKey(h);
    if (h === '' || k === '') {
      ignored.push({ header: `(column ${col + 1})`, reason: 'no header' });
      return;
    }
    if (explicitByKey.has(k)) {
      unmatchedExplicit.delete(k);
      const f = explicitByKey.get(k);
      if (!f) {
        ignored.push({ header: h, reason: 'ignored by the mapping file' });
        return;
      }
      candidates.push({ col, field: f, rank: -1 });
      return;
    }
    const m = rank.get(k);
    if (m) candidates.push({ col, field: m.field, rank: m.rank });
    else if (spec.attributes) attributes.set(col, h);
    else ignored.push({ header: h, reason: 'unknown header' });
  });
  for (const c of candidates) {
    const prev = chosen.get(c.field);
    if (!prev || c.rank < prev.rank) chosen.set(c.field, { col: c.col, rank: c.rank });
  }
  for (const c of candidates) {
    if (chosen.get(c.field)?.col === c.col) {
      fields.set(c.col, c.field);
      byHeader[headers[c.col]!] = c.field;
    } else {
      const winner = headers[chosen.get(c.field)!.col]!;
      if (spec.attributes) attributes.set(c.col, headers[c.col]!);
      else ignored.push({ header: headers[c.col]!, reason: `${c.field} is taken from ${JSON.stringify(winner)}` });
    }
  }
  for (const [col, name] of attributes) byHeader[headers[col]!] = `attributes.${name}`;

  const mapped = new Set(fields.values());
  const missing = spec.fields.filter((f) => f.required && !mapped.has(f.name) && !(f.name === 'id' && spec.hashKey)).map((f) => f.name);
  if (spec.oneOf && !spec.oneOf.some((f) => mapped.has(f))) missing.push(spec.oneOf.join(' or '));
  if (missing.length > 0) {
    const hint = missing
      .map((f) => {
        const words = syn[f]?.slice(0, 4).join(', ');
        return words ? `${f} (e.g. ${words})` : f;
      })
      .join('; ');
    throw new ImportFileError(
      `missing required column${missing.length > 1 ? 's' : ''} for ${entity}: ${hint}. ` +
        `The file's headers are: ${headers.map((h) => JSON.stringify(h)).join(', ')}. ` +
        'Rename the columns or pass a mapping file ({"your header": "field"}); nothing was imported.',
      'missing_columns',
    );
  }
  if (unmatchedExplicit.size > 0) {
    const names = Object.keys(explicit).filter((h) => unmatchedExplicit.has(headerKey(h)));
    ignored.push(...names.map((h) => ({ header: h, reason: 'named in the mapping file but not in the file' })));
  }
  return { fields, attributes, ignored, byHeader };
}
