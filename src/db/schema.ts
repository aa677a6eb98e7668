// Row types for Kysely, kept by hand beside the migrations they describe.
// int8 and numeric arrive as numbers, date as 'YYYY-MM-DD', timestamptz as Date.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = Record<string, unknown>> = ColumnType<T, string | undefined, string>;

export type Consent = Record<string, Record<string, boolean>>;

export interface WorkspacesTable {
  id: number;
  slug: string;
  name: string;
  industry: Generated<string>;
  time_zone: Generated<string>;
  currency: Generated<string>;
  locale: Generated<string>;
  settings: Json;
  created_at: DefaultTimestamp;
}

export interface CustomersTable {
  workspace_id: number;
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  gender: 'female' | 'male' | 'other' | null;
  birthday: string | null;
  region: string | null;
  city: string | null;
  time_zone: string | null;
  registered_at: Timestamp | null;
  acquisition_channel: string | null;
  membership_level: string | null;
  membership_expires_at: Timestamp | null;
  owner: string | null;
  preferred_channel: string | null;
  consent: Json<Consent>;
  attributes: Json;
  is_stub: Generated<boolean>;
  merged_into: string | null;
  erased_at: Timestamp | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  /** The list's order summary (migration 0010; the only copy since 0028), written only through customers.stats.ts; null until the first refresh. */
  stats_first_order_at: Timestamp | null;
  stats_last_order_at: Timestamp | null;
  stats_orders: number | null;
  stats_spend: number | null;
}

export interface ProductsTable {
  workspace_id: number;
  id: string;
  name: string | null;
  category: string | null;
  price: number | null;
  attributes: Json;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export type OrderStatus = 'paid' | 'refunded' | 'returned';

export interface OrdersTable {
  workspace_id: number;
  id: string;
  customer_id: string;
  ordered_at: Timestamp;
  amount: number;
  discount: Generated<number>;
  coupon_code: string | null;
  status: Generated<OrderStatus>;
  store: string | null;
  channel: string | null;
  attributes: Json;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
}

export interface OrderLinesTable {
  workspace_id: number;
  order_id: string;
  line_no: number;
  product_id: string | null;
  category: string | null;
  quantity: Generated<number>;
  price: number;
}

export interface EventsTable {
  workspace_id: number;
  message_id: string;
  customer_id: string | null;
  anonymous_id: string | null;
  type: string;
  occurred_at: Timestamp;
  received_at: DefaultTimestamp;
  properties: Json;
}

export interface TicketsTable {
  workspace_id: number;
  id: string;
  customer_id: string | null;
  kind: Generated<'complaint' | 'suggestion' | 'inquiry'>;
  category: string | null;
  priority: Generated<'urgent' | 'important' | 'general' | 'minor'>;
  status: Generated<'open' | 'pending' | 'resolved' | 'closed' | 'reopened'>;
  channel: string | null;
  subject: string | null;
  body: string | null;
  owner: string | null;
  created_at: Timestamp;
  first_response_at: Timestamp | null;
  resolved_at: Timestamp | null;
  due_at: Timestamp | null;
  csat: number | null;
  attributes: Json;
  updated_at: DefaultTimestamp;
}

export interface SurveyResponsesTable {
  workspace_id: number;
  id: string;
  customer_id: string | null;
  survey: Generated<string>;
  responded_at: Timestamp;
  nps: number | null;
  csat: number | null;
  churn_reason: string | null;
  text: string | null;
  attributes: Json;
  updated_at: DefaultTimestamp;
}

export interface ReferralsTable {
  workspace_id: number;
  id: string;
  referrer_id: string;
  referee_id: string | null;
  referred_at: Timestamp;
  converted_at: Timestamp | null;
}

export interface CouponsTable {
  workspace_id: number;
  code: string;
  customer_id: string | null;
  campaign: string | null;
  value: Generated<number>;
  min_spend: Generated<number>;
  issued_at: Timestamp;
  expires_at: Timestamp | null;
  redeemed_at: Timestamp | null;
  order_id: string | null;
}

export interface DemoTruthTable {
  workspace_id: number;
  customer_id: string;
  purchase_rate: number;
  dropout_probability: number;
  dropped_out_at: Timestamp | null;
  mean_spend: number;
  segment: string | null;
}

export interface ApiKeysTable {
  workspace_id: number;
  id: string;
  name: string | null;
  role: 'ingest' | 'admin';
  key_hash: string;
  prefix: string;
  created_at: DefaultTimestamp;
  created_by: string | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  workspace_id: number;
  id: Generated<number>;
  at: DefaultTimestamp;
  actor: string;
  action: string;
  entity: string;
  entity_id: string | null;
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
}

export interface ImportRunsTable {
  workspace_id: number;
  id: Generated<number>;
  entity: string;
  file_name: string;
  started_at: DefaultTimestamp;
  finished_at: Timestamp | null;
  status: Generated<'running' | 'done' | 'failed' | 'dry_run'>;
  rows_total: Generated<number>;
  inserted: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  rejected: Generated<number>;
  report: Json;
}

export interface PipelineRunsTable {
  workspace_id: number;
  id: Generated<number>;
  kind: Generated<string>;
  started_at: DefaultTimestamp;
  finished_at: Timestamp | null;
  status: Generated<'queued' | 'running' | 'done' | 'failed'>;
  steps: Json<unknown[]>;
  error: string | null;
  as_of: Timestamp | null;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobsTable {
  id: Generated<number>;
  workspace_id: number;
  task: string;
  payload: Json<unknown>;
  key: string | null;
  status: Generated<JobStatus>;
  run_at: DefaultTimestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_at: Timestamp | null;
  heartbeat_at: Timestamp | null;
  progress: ColumnType<unknown, string | null | undefined, string | null>;
  last_error: string | null;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: DefaultTimestamp;
  finished_at: Timestamp | null;
}

export interface SchedulesTable {
  workspace_id: number;
  name: string;
  task: string;
  cron: string;
  time_zone: string;
  payload: Json<unknown>;
  enabled: Generated<boolean>;
  next_run_at: Timestamp;
  last_run_at: Timestamp | null;
}

export type UserRole = 'admin' | 'operator' | 'analyst' | 'agent' | 'viewer';

export interface UsersTable {
  workspace_id: number;
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  password_hash: string;
  locale: Generated<'zh-CN' | 'en'>;
  created_at: DefaultTimestamp;
  disabled_at: Timestamp | null;
  must_change_password: Generated<boolean>;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  workspace_id: number;
  created_at: DefaultTimestamp;
  expires_at: Timestamp;
  last_seen_at: DefaultTimestamp;
  user_agent: string | null;
  ip: string | null;
}

export interface LoginAttemptsTable {
  workspace_id: number;
  email: string;
  ip: string;
  at: Timestamp;
}

export interface ScoringStateTable {
  workspace_id: number;
  as_of: Timestamp;
  settings: unknown;
  cuts: unknown;
}

export interface CustomerMetricsTable {
  workspace_id: number;
  customer_id: string;
  as_of: Timestamp;
  /** The figures run that last changed a figure the scoring reads (SCORED_FIGURES). */
  inputs_at: Timestamp | null;
  first_order_at: Timestamp | null;
  last_order_at: Timestamp | null;
  orders_total: number;
  spend_total: number;
  orders_window: number;
  spend_window: number;
  orders_90d: number;
  orders_prev_90d: number;
  orders_base: number;
  coupon_orders_window: number;
  refunded_orders: number;
  orders_all_statuses: number;
  last_event_at: Timestamp | null;
  events_30d: number;
  logins_30d: number;
  logins_7d: number;
  core_uses_30d: number;
  events_prev_30d: number;
  complaints_total: number;
  complaints_90d: number;
  open_tickets: number;
  csat_avg: number | null;
  last_nps: number | null;
  referrals: number;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  rfm_score: number | null;
  tier: 'A' | 'B' | 'C' | 'D' | null;
  rfm_segment: string | null;
  lifecycle_stage: string | null;
  stage_since: Timestamp | null;
}

export interface TierHistoryTable {
  workspace_id: number;
  customer_id: string;
  valid_from: Timestamp;
  valid_to: Timestamp | null;
  tier: 'A' | 'B' | 'C' | 'D';
  rfm_score: number | null;
}

export interface LifecycleTransitionsTable {
  workspace_id: number;
  customer_id: string;
  at: Timestamp;
  from_stage: string | null;
  to_stage: string;
}

export interface CohortRetentionTable {
  workspace_id: number;
  basis: 'purchase' | 'activity';
  cohort_month: string;
  month_offset: number;
  cohort_size: number;
  retained: number;
  computed_at: Timestamp;
}

export interface KpiValuesTable {
  workspace_id: number;
  kpi: string;
  day: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  computed_at: Timestamp;
}

export interface SegmentsTable {
  workspace_id: number;
  id: string;
  kind: Generated<'tag' | 'segment'>;
  name: string;
  name_zh: string | null;
  description: string | null;
  rule: ColumnType<unknown, string, string>;
  rule_text: string;
  builtin: Generated<boolean>;
  enabled: Generated<boolean>;
  owner: string | null;
  created_by: string | null;
  created_at: DefaultTimestamp;
  updated_at: DefaultTimestamp;
  evaluated_at: Timestamp | null;
  member_count: Generated<number>;
  last_error: string | null;
}

export interface SegmentMembersTable {
  workspace_id: number;
  segment_id: string;
  customer_id: string;
  since: Timestamp;
}

export interface SegmentMembershipEventsTable {
  workspace_id: number;
  segment_id: string;
  customer_id: string;
  at: Timestamp;
  change: 'entered' | 'left';
}

export interface CustomerClvTable {
  workspace_id: number;
  customer_id: string;
  as_of: Timestamp;
  model: 'bgnbd' | 'pareto-nbd';
  frequency: number;
  recency_days: number;
  age_days: number;
  monetary: number;
  p_alive: number;
  exp_purchases_90d: number;
  exp_purchases_365d: number;
  exp_avg_spend: number;
  clv_12m: number;
  historical_clv: number;
}

export interface ClvFitsTable {
  workspace_id: number;
  id: Generated<number>;
  fitted_at: Timestamp;
  as_of: Timestamp;
  model: string;
  params: Json;
  spend_params: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  log_likelihood: number;
  customers: number;
  settings: Json;
  warnings: Json<string[]>;
  backtest: ColumnType<Record<string, unknown> | null, string | null, string | null>;
}

export interface ProductAffinitiesTable {
  workspace_id: number;
  kind: 'sequence' | 'co_purchase';
  from_product: string;
  to_product: string;
  customers: number;
  support: number;
  confidence: number;
  lift: number;
  median_lag_days: number | null;
  computed_at: Timestamp;
}

export interface ProductRepurchaseTable {
  workspace_id: number;
  product_id: string;
  median_interval_days: number;
  buyers: number;
  intervals: number;
  computed_at: Timestamp;
}

export interface CustomerNextProductsTable {
  workspace_id: number;
  customer_id: string;
  product_id: string;
  rank: number;
  reason: 'next' | 'due' | 'co_purchase';
  score: number;
  due_at: Timestamp | null;
  from_product: string | null;
  computed_at: Timestamp;
}

export interface CustomerClustersTable {
  workspace_id: number;
  customer_id: string;
  cluster: number;
  as_of: Timestamp;
}

export interface ClusterProfilesTable {
  workspace_id: number;
  run_at: Timestamp;
  as_of: Timestamp;
  k: number;
  silhouette: number | null;
  customers: number;
  profiles: ColumnType<unknown, string, string>;
  model: ColumnType<unknown, string, string>;
}

export interface ModelsTable {
  workspace_id: number;
  id: Generated<number>;
  kind: Generated<'churn'>;
  version: number;
  algorithm: string;
  features: ColumnType<unknown, string, string>;
  params: Json;
  model: ColumnType<unknown, string, string>;
  metrics: Json;
  window_from: Timestamp;
  window_to: Timestamp;
  rows: number;
  trained_by: string;
  trained_at: Timestamp;
  active: Generated<boolean>;
}

export interface ChurnScoresTable {
  workspace_id: number;
  customer_id: string;
  model_id: number | null;
  scored_at: Timestamp;
  probability: number | null;
  risk_tier: 'high' | 'medium' | 'low';
  drivers: ColumnType<unknown, string | null, string | null>;
  scorecard_points: number;
  scorecard_level: 'high' | 'medium' | 'low';
  scorecard_breakdown: ColumnType<unknown, string | undefined, string>;
}

export interface Database {
  workspaces: WorkspacesTable;
  customers: CustomersTable;
  products: ProductsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  events: EventsTable;
  tickets: TicketsTable;
  survey_responses: SurveyResponsesTable;
  referrals: ReferralsTable;
  coupons: CouponsTable;
  demo_truth: DemoTruthTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  import_runs: ImportRunsTable;
  pipeline_runs: PipelineRunsTable;
  users: UsersTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
  jobs: JobsTable;
  cohort_retention: CohortRetentionTable;
  kpi_values: KpiValuesTable;
  customer_metrics: CustomerMetricsTable;
  scoring_state: ScoringStateTable;
  tier_history: TierHistoryTable;
  lifecycle_transitions: LifecycleTransitionsTable;
  schedules: SchedulesTable;
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
  segment_membership_events: SegmentMembershipEventsTable;
  customer_clv: CustomerClvTable;
  clv_fits: ClvFitsTable;
  product_affinities: ProductAffinitiesTable;
  product_repurchase: ProductRepurchaseTable;
  customer_next_products: CustomerNextProductsTable;
  customer_clusters: CustomerClustersTable;
  cluster_profiles: ClusterProfilesTable;
  models: ModelsTable;
  churn_scores: ChurnScoresTable;
  liuke_migrations: { version: number; name: string; applied_at: DefaultTimestamp };
}

export const DEFAULT_WORKSPACE_ID = 1;
