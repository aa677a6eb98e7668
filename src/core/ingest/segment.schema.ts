// The shapes Liuke accepts: Segment's HTTP Tracking API messages (identify,
// track, page, screen, group, alias, batch) and the native REST bodies for
// orders, tickets and surveys. One TypeBox schema each validates, types and
// documents (the REST ones appear in /api/docs).
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** Segment's per-message limit. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
/** Segment's per-batch limit; the app-wide LIUKE_MAX_BODY_BYTES answers 413 above it. */
export const MAX_BATCH_BYTES = 500 * 1024;
/** Most records one REST call may carry. */
export const MAX_RECORDS = 1000;

const Id = Type.Union([Type.String({ minLength: 1, maxLength: 255 }), Type.Number()], {
  description: 'string (numbers are accepted and stored as text)',
});
const Json = Type.Record(Type.String(), Type.Unknown());
const Time = Type.String({ minLength: 1, maxLength: 64, description: 'ISO 8601 date-time' });

const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'dedupe key: a retried message stores nothing twice' })),
  userId: Type.Optional(Type.Union([Id, Type.Null()])),
  anonymousId: Type.Optional(Type.Union([Id, Type.Null()])),
  timestamp: Type.Optional(Time),
  originalTimestamp: Type.Optional(Time),
  sentAt: Type.Optional(Time),
  receivedAt: Type.Optional(Time),
  context: Type.Optional(Json),
  integrations: Type.Optional(Json),
  writeKey: Type.Optional(Type.String()),
  version: Type.Optional(Type.Unknown()),
  _metadata: Type.Optional(Type.Unknown()),
};

export const IdentifyMessage = Type.Object({ ...common, traits: Type.Optional(Json) }, { additionalProperties: true });
export const TrackMessage = Type.Object(
  { ...common, event: Type.String({ minLength: 1, maxLength: 200 }), properties: Type.Optional(Json) },
  { additionalProperties: true },
);
export const PageMessage = Type.Object(
  {
    ...common,
    name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    category: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    properties: Type.Optional(Json),
  },
  { additionalProperties: true },
);
export const GroupMessage = Type.Object({ ...common, groupId: Id, traits: Type.Optional(Json) }, { additionalProperties: true });
export const AliasMessage = Type.Object({ ...common, userId: Id, previousId: Id }, { additionalProperties: true });

export type MessageType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';
export const MESSAGE_TYPES: readonly MessageType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

export type IdentifyMessage = Static<typeof IdentifyMessage>;
export type TrackMessage = Static<typeof TrackMessage>;

const SCHEMAS: Record<MessageType, TSchema> = {
  identify: IdentifyMessage,
  track: TrackMessage,
  page: PageMessage,
  screen: PageMessage,
  group: GroupMessage,
  alias: AliasMessage,
};
const CHECKERS = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, Compile(s)])) as Record<
  MessageType,
  ReturnType<typeof Compile>
>;

/**
 * The first problem with a message as [field path relative to the message, what is wrong],
 * or null when it matches its type's schema.
 */
export function checkMessage(type: MessageType, msg: unknown): [string, string] | null {
  const c = CHECKERS[type];
  if (c.Check(msg)) return null;
  // anyOf reports every branch; the most useful error is the deepest non-anyOf one.
  const errors = [...c.Errors(msg)];
  const e = errors.find((x) => x.keyword !== 'anyOf') ?? errors[0];
  if (!e) return ['', 'is invalid'];
  const params = e.params as { requiredProperties?: string[] };
  const path = e.instancePath.replace(/^\//, '').split('/').filter(Boolean);
  if (e.keyword === 'required' && params.requiredProperties?.[0]) path.push(params.requiredProperties[0]);
  const msgText = e.keyword === 'required' ? 'is required' : e.message;
  return [path.join('.'), msgText];
}

/** What the batch endpoint's body looks like (each message is checked on its own, so one bad one spares the rest). */
export const BatchBody = Type.Object(
  {
    batch: Type.Array(Type.Unknown({ description: 'an identify, track, page, screen, group or alias message with its `type`' }), {
      description: 'messages; each is validated on its own',
    }),
    sentAt: Type.Optional(Time),
    context: Type.Optional(Json),
    integrations: Type.Optional(Json),
    writeKey: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const SegmentOk = Type.Object({ success: Type.Literal(true) });
export const SegmentPartial = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
  accepted: Type.Integer({ description: 'messages stored (or already stored before: a retry)' }),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), field: Type.String(), message: Type.String() })),
});

// ---- native REST --------------------------------------------------------

// `type: [x, 'null']` rather than a union with Null: the app's Ajv coerces types,
// and in a union it would turn 0 or "" into null instead of rejecting them.
const nullable = <T extends TSchema>(s: T) =>
  Type.Unsafe<Static<T> | null>({ ...(s as object), type: [(s as unknown as { type: string }).type, 'null'] });
const Money = Type.Number({ minimum: 0 });
const OptText = Type.Optional(nullable(Type.String({ maxLength: 1000 })));
const OptTime = Type.Optional(nullable(Type.String({ format: 'date-time' })));

export const OrderLine = Type.Object(
  {
    product_id: OptText,
    category: OptText,
    quantity: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'default 1' })),
    price: Money,
  },
  { additionalProperties: false },
);
export const OrderInput = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 255 }),
    customer_id: Type.String({ minLength: 1, maxLength: 255, description: 'an unknown id creates a stub customer' }),
    ordered_at: Type.String({ format: 'date-time' }),
    amount: Money,
    discount: Type.Optional(Money),
    coupon_code: OptText,
    status: Type.Optional(Type.Union([Type.Literal('paid'), Type.Literal('refunded'), Type.Literal('returned')])),
    store: OptText,
    channel: OptText,
    attributes: Type.Optional(Json),
    lines: Type.Optional(Type.Array(OrderLine, { maxItems: 1000, description: 'when given, replaces the order\'s lines' })),
  },
  { additionalProperties: false },
);
export type OrderInput = Static<typeof OrderInput>;

export const TicketInput = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 255 }),
    customer_id: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    kind: Type.Optional(Type.Union([Type.Literal('complaint'), Type.Literal('suggestion'), Type.Literal('inquiry')])),
    category: OptText,
    priority: Type.Optional(Type.Union([Type.Literal('urgent'), Type.Literal('important'), Type.Literal('general'), Type.Literal('minor')])),
    status: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('resolved'), Type.Literal('closed'), Type.Literal('reopened')]),
    ),
    channel: OptText,
    subject: OptText,
    body: Type.Optional(nullable(Type.String({ maxLength: 20000 }))),
    owner: OptText,
    created_at: Type.String({ format: 'date-time' }),
    first_response_at: OptTime,
    resolved_at: OptTime,
    due_at: OptTime,
    csat: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 5 }))),
    attributes: Type.Optional(Json),
  },
  { additionalProperties: false },
);
export type TicketInput = Static<typeof TicketInput>;

export const SurveyInput = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'defaults to a hash of customer, survey and time, so a resend is not counted twice' })),
    customer_id: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 255 }))),
    survey: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "default 'nps'" })),
    responded_at: Type.String({ format: 'date-time' }),
    nps: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 10 }))),
    csat: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 5 }))),
    churn_reason: OptText,
    text: Type.Optional(nullable(Type.String({ maxLength: 20000 }))),
    attributes: Type.Optional(Json),
  },
  { additionalProperties: false },
);
export type SurveyInput = Static<typeof SurveyInput>;

// The REST endpoints take one record or an array; a lone record is wrapped in
// an array before validation, so errors name the record and field ("0.amount").
const many = (what: string) => ({ minItems: 1, maxItems: MAX_RECORDS, description: `one ${what} or an array of up to ${MAX_RECORDS}` });
export const OrdersBody = Type.Array(OrderInput, many('order'));
export const TicketsBody = Type.Array(TicketInput, many('ticket'));
export const SurveysBody = Type.Array(SurveyInput, many('survey response'));

export const UpsertResult = Type.Object({
  success: Type.Literal(true),
  inserted: Type.Integer(),
  updated: Type.Integer(),
  stub_customers: Type.Integer({ description: 'customers created as stubs because the id was unknown' }),
});
export type UpsertResult = Static<typeof UpsertResult>;
