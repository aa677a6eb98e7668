// Segment's semantic events mapped onto Liuke's event types, and the
// e-commerce spec's "Order Completed" / "Order Refunded" turned into orders.
// Pure functions: no database, no clock.

/** Segment spec names (and common variants) → Liuke event types (SPEC §1). */
const KNOWN_EVENTS: Record<string, string> = {
  'product viewed': 'product_view',
  'product clicked': 'product_click',
  'product list viewed': 'product_list_view',
  'product list filtered': 'product_list_filter',
  'products searched': 'search',
  'product searched': 'search',
  searched: 'search',
  search: 'search',
  'product added': 'add_to_cart',
  'added to cart': 'add_to_cart',
  'add to cart': 'add_to_cart',
  'product removed': 'remove_from_cart',
  'cart viewed': 'cart_view',
  'checkout started': 'checkout_started',
  'order completed': 'order_completed',
  'order updated': 'order_updated',
  'order refunded': 'order_refunded',
  'order cancelled': 'order_cancelled',
  'coupon applied': 'coupon_applied',
  'coupon entered': 'coupon_entered',
  'product added to wishlist': 'add_to_wishlist',
  'signed in': 'login',
  'logged in': 'login',
  'log in': 'login',
  login: 'login',
  'signed up': 'sign_up',
  'account created': 'sign_up',
  'signed out': 'logout',
  'logged out': 'logout',
  'page viewed': 'page_view',
  'screen viewed': 'screen_view',
  'application opened': 'app_open',
  'application installed': 'app_install',
  'application uninstalled': 'app_uninstall',
  'lesson completed': 'course_lesson_completed',
  'course lesson completed': 'course_lesson_completed',
  'feature used': 'feature_used',
  'store visited': 'visit',
  visited: 'visit',
  visit: 'visit',
  'check in': 'visit',
  'checked in': 'visit',
};

/**
 * "Product Viewed" → product_view, "Signed In" → login; anything else in
 * snake_case ("Video Played" → video_played, "Wishlist Viewed" → wishlist_view).
 * Letters of any script are kept ("浏览商品" stays as it is).
 */
export function normaliseEventName(name: string): string {
  const key = name.trim().toLowerCase().replace(/[\s_\-.]+/g, ' ');
  const known = KNOWN_EVENTS[key];
  if (known) return known;
  const snake = key
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  if (!snake) return 'event';
  return snake.replace(/_viewed$/, '_view');
}

export interface OrderFromEvent {
  id: string;
  customerId: string;
  orderedAt: Date;
  amount: number;
  discount: number;
  couponCode: string | null;
  status: 'paid' | 'refunded';
  channel: string | null;
  attributes: Record<string, unknown>;
  /** null: leave existing lines as they are (a refund without products). */
  lines: { productId: string | null; category: string | null; quantity: number; price: number; name: string | null }[] | null;
}

export type Extracted = { ok: true; order: OrderFromEvent } | { ok: false; field: string; message: string };

const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);

/** True for the events that carry an order. */
export function isOrderEvent(type: string): boolean {
  return type === 'order_completed' || type === 'order_refunded';
}

/**
 * An order from an "Order Completed" / "Order Refunded" event's properties
 * (order_id, total or revenue, discount, coupon, products[]), or the field at fault.
 * Field paths are relative to the message ("properties.order_id").
 */
export function orderFromEvent(type: string, customerId: string, at: Date, p: Record<string, unknown>): Extracted {
  const id = str(p.order_id ?? p.orderId ?? p.checkout_id);
  if (!id) return { ok: false, field: 'properties.order_id', message: `${type === 'order_refunded' ? 'Order Refunded' : 'Order Completed'} needs properties.order_id` };
  const products = p.products;
  let lines: OrderFromEvent['lines'] = null;
  if (products !== undefined && products !== null) {
    if (!Array.isArray(products)) return { ok: false, field: 'properties.products', message: 'must be an array' };
    lines = [];
    for (const [i, raw] of products.entries()) {
      if (typeof raw !== 'object' || raw === null) return { ok: false, field: `properties.products[${i}]`, message: 'must be an object' };
      const pr = raw as Record<string, unknown>;
      const price = pr.price === undefined || pr.price === null ? 0 : num(pr.price);
      if (price === undefined || price < 0) return { ok: false, field: `properties.products[${i}].price`, message: 'must be a number ≥ 0' };
      const quantity = pr.quantity === undefined || pr.quantity === null ? 1 : num(pr.quantity);
      if (quantity === undefined || quantity <= 0) return { ok: false, field: `properties.products[${i}].quantity`, message: 'must be a number > 0' };
      lines.push({
        productId: str(pr.product_id ?? pr.productId ?? pr.sku ?? pr.id),
        category: str(pr.category),
        name: str(pr.name),
        quantity,
        price,
      });
    }
  }
  const amountRaw = p.total ?? p.revenue ?? p.value;
  let amount: number;
  if (amountRaw === undefined || amountRaw === null) {
    amount = lines ? lines.reduce((s, l) => s + l.price * l.quantity, 0) : 0;
  } else {
    const a = num(amountRaw);
    if (a === undefined || a < 0) return { ok: false, field: p.total !== undefined ? 'properties.total' : 'properties.revenue', message: 'must be a number ≥ 0' };
    amount = a;
  }
  const discountRaw = p.discount;
  const discount = discountRaw === undefined || discountRaw === null ? 0 : num(discountRaw);
  if (discount === undefined) return { ok: false, field: 'properties.discount', message: 'must be a number' };
  const attributes: Record<string, unknown> = {};
  for (const k of ['currency', 'shipping', 'tax', 'subtotal', 'affiliation', 'checkout_id'] as const) {
    if (p[k] !== undefined) attributes[k] = p[k];
  }
  return {
    ok: true,
    order: {
      id,
      customerId,
      orderedAt: at,
      amount: Math.round(amount * 100) / 100,
      // Segment's discount is positive; some shops send it negative.
      discount: Math.abs(discount),
      couponCode: str(p.coupon),
      status: type === 'order_refunded' ? 'refunded' : 'paid',
      channel: str(p.affiliation),
      attributes,
      lines,
    },
  };
}
