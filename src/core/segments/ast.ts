// The rule language's JSON form (the API's shape) and its limits. The text
// form (parser.ts / printer.ts) maps one-to-one onto these nodes; validate.ts
// checks a node tree against the whitelist in fields.ts; compile.ts turns a
// valid tree into parameterised SQL.
import Type, { type Static } from 'typebox';

export type Scalar = string | number | boolean;
export type CmpOp = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type ListOp = 'in' | 'not_in';
export type EmptyOp = 'is_empty' | 'is_not_empty';
export type WithinOp = 'within_next_days' | 'within_last_days';
export type Op = CmpOp | ListOp | EmptyOp | WithinOp;
export const CMP_OPS: readonly CmpOp[] = ['=', '!=', '>', '>=', '<', '<='];
export const OPS: readonly Op[] = [...CMP_OPS, 'in', 'not_in', 'is_empty', 'is_not_empty', 'within_next_days', 'within_last_days'];

/** A custom attribute's declared type (customers.attributes is free-form JSON). */
export type AttrType = 'number' | 'string' | 'boolean';

/** "the last N days" or "this month" (calendar month in the workspace's time zone, up to now). */
export type Window = { last_days: number } | { this: 'month' };

/** A condition on the rows being aggregated: orders.count(status = "refunded", …). */
export interface Filter {
  field: string;
  op: CmpOp | ListOp;
  value: Scalar | Scalar[];
}

export type Agg = 'count' | 'sum' | 'avg' | 'max' | 'min';
export type Source = 'orders' | 'events' | 'tickets';
export const AGGS: readonly Agg[] = ['count', 'sum', 'avg', 'max', 'min'];
export const SOURCES: readonly Source[] = ['orders', 'events', 'tickets'];

export interface FieldOperand {
  field: string;
  /** For attribute.* only: how to read the JSON value. The parser infers it from the value compared. */
  type?: AttrType;
}
export interface AggOperand {
  agg: Agg;
  of: Source;
  /** sum/avg/max/min: what to add up (orders: amount, discount; tickets: csat; events: property.NAME). */
  measure?: string;
  where?: Filter[];
  window: Window;
}
export interface RatioOperand {
  ratio: [Operand, Operand];
}
export type Operand = FieldOperand | AggOperand | RatioOperand;

export interface Condition {
  left: Operand;
  op: Op;
  /** Scalar for comparisons, a list for in/not_in, a day count for within_*, absent for is_empty. */
  value?: Scalar | Scalar[];
}
export interface And {
  and: Rule[];
}
export interface Or {
  or: Rule[];
}
export interface Not {
  not: Rule;
}
/** Exists a product (by product_id) for which the inner rule holds; aggregates inside are per product. */
export interface AnyProduct {
  any_product: Rule;
}
export type Rule = And | Or | Not | AnyProduct | Condition;

export const LIMITS = {
  /** Nesting of and/or/not/any product/parentheses. */
  maxDepth: 8,
  /** Conditions in one rule. */
  maxConditions: 64,
  maxListItems: 200,
  maxStringLength: 200,
  maxTextLength: 8000,
  /** The longest time window an aggregate may look back (or a within may look ahead). */
  maxDays: 730,
  /** Largest absolute number a rule may compare with. */
  maxNumber: 1e12,
} as const;

// TypeBox schema of the JSON form, for the OpenAPI document and typed clients.
// validate.ts checks the same shape by hand so its errors can name a JSON path
// and suggest the field meant.
const ScalarSchema = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
const WindowSchema = Type.Union([
  Type.Object({ last_days: Type.Integer({ minimum: 1, maximum: LIMITS.maxDays }) }, { additionalProperties: false }),
  Type.Object({ this: Type.Literal('month') }, { additionalProperties: false }),
]);
const FilterSchema = Type.Object(
  {
    field: Type.String(),
    op: Type.Union([...CMP_OPS, 'in', 'not_in'].map((o) => Type.Literal(o))),
    value: Type.Union([ScalarSchema, Type.Array(ScalarSchema)]),
  },
  { additionalProperties: false },
);
export const RuleSchema = Type.Cyclic(
  {
    Operand: Type.Union([
      Type.Object({ field: Type.String(), type: Type.Optional(Type.Union([Type.Literal('number'), Type.Literal('string'), Type.Literal('boolean')])) }, { additionalProperties: false }),
      Type.Object(
        {
          agg: Type.Union(AGGS.map((a) => Type.Literal(a))),
          of: Type.Union(SOURCES.map((s) => Type.Literal(s))),
          measure: Type.Optional(Type.String()),
          where: Type.Optional(Type.Array(FilterSchema)),
          window: WindowSchema,
        },
        { additionalProperties: false },
      ),
      Type.Object({ ratio: Type.Tuple([Type.Ref('Operand'), Type.Ref('Operand')]) }, { additionalProperties: false }),
    ]),
    Rule: Type.Union([
      Type.Object({ and: Type.Array(Type.Ref('Rule')) }, { additionalProperties: false }),
      Type.Object({ or: Type.Array(Type.Ref('Rule')) }, { additionalProperties: false }),
      Type.Object({ not: Type.Ref('Rule') }, { additionalProperties: false }),
      Type.Object({ any_product: Type.Ref('Rule') }, { additionalProperties: false }),
      Type.Object(
        {
          left: Type.Ref('Operand'),
          op: Type.Union(OPS.map((o) => Type.Literal(o))),
          value: Type.Optional(Type.Union([ScalarSchema, Type.Array(ScalarSchema)])),
        },
        { additionalProperties: false },
      ),
    ]),
  },
  'Rule',
);
export type RuleJson = Static<typeof RuleSchema>;

export const isAnd = (r: Rule): r is And => typeof r === 'object' && r !== null && 'and' in r;
export const isOr = (r: Rule): r is Or => typeof r === 'object' && r !== null && 'or' in r;
export const isNot = (r: Rule): r is Not => typeof r === 'object' && r !== null && 'not' in r;
export const isAnyProduct = (r: Rule): r is AnyProduct => typeof r === 'object' && r !== null && 'any_product' in r;
export const isCondition = (r: Rule): r is Condition => typeof r === 'object' && r !== null && 'left' in r;
export const isField = (o: Operand): o is FieldOperand => 'field' in o;
export const isAgg = (o: Operand): o is AggOperand => 'agg' in o;
export const isRatio = (o: Operand): o is RatioOperand => 'ratio' in o;

/** One problem with a rule: where (JSON path, and line/column for the text form) and what. */
export interface RuleError {
  message: string;
  /** JSON path into the AST, e.g. $.and[0].left.field */
  path: string;
  line?: number;
  column?: number;
  /** Character offset and length in the text form. */
  offset?: number;
  length?: number;
}

export class RuleSyntaxError extends Error {
  readonly errors: RuleError[];
  constructor(errors: RuleError[]) {
    super(errors.map((e) => (e.line ? `${e.line}:${e.column}: ${e.message}` : `${e.path}: ${e.message}`)).join('\n'));
    this.errors = errors;
  }
}
