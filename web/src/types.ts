// Shapes of the server's answers, as the API contract states them.
export type UserRole = 'admin' | 'operator' | 'analyst' | 'agent' | 'viewer';
export const USER_ROLES: UserRole[] = ['admin', 'operator', 'analyst', 'agent', 'viewer'];

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  locale: string | null;
  must_change_password: boolean;
  disabled?: boolean;
  disabled_at?: string | null;
  created_at?: string;
}

export interface Workspace {
  id: number;
  name: string;
  time_zone: string;
  currency: string;
  locale: string;
  industry: string;
}

export interface Me {
  user: User;
  workspace: Workspace;
}

export interface CustomerRow {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  city: string | null;
  membership_level: string | null;
  owner: string | null;
  registered_at: string | null;
  first_order_at: string | null;
  last_order_at: string | null;
  orders: number;
  spend: number;
}

export interface CustomerPage {
  total: number;
  /** false when more matched than the server counts; total is then that cap. */
  total_exact?: boolean;
  page: number;
  page_size: number;
  items: CustomerRow[];
}

export type Consent = Record<string, Record<string, boolean | null> | boolean | null>;

export interface CustomerProfile {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  gender?: string | null;
  birthday?: string | null;
  region?: string | null;
  city?: string | null;
  time_zone?: string | null;
  registered_at?: string | null;
  acquisition_channel?: string | null;
  consent: Consent | null;
  attributes: Record<string, unknown> | null;
  membership_level: string | null;
  membership_expires_at: string | null;
  owner: string | null;
  preferred_channel: string | null;
  is_stub: boolean;
  merged_into: string | null;
}

export interface Figures {
  first_order_at: string | null;
  last_order_at: string | null;
  orders: number;
  spend: number;
  average_order_value: number | null;
  refunded_orders: number;
  open_tickets: number;
  last_nps: number | null;
  last_csat: number | null;
  events_30d: number;
}

export interface Customer360 {
  customer: CustomerProfile;
  figures: Figures;
}

export type TimelineType = 'order' | 'event' | 'ticket' | 'survey';
export const TIMELINE_TYPES: TimelineType[] = ['order', 'event', 'ticket', 'survey'];

export interface TimelineItem {
  type: TimelineType;
  at: string;
  id: string;
  title: string | null;
  /** Per type: order {amount, status, store, channel, lines…}, event properties, ticket {priority, status…}, survey {nps, csat, churn_reason, text}. */
  detail: Record<string, unknown> | null;
}

export interface TimelinePage {
  items: TimelineItem[];
  next_cursor: string | null;
}

export interface Status {
  workspaceId: number;
  counts: Record<string, number>;
  lastPipelineRun: { id: number; status: string; startedAt: string; finishedAt: string | null } | null;
  lastImport: { entity: string; fileName: string; status: string; finishedAt: string | null } | null;
  /** The customer figures are being computed again after a crash emptied them. */
  figuresLost: boolean;
  /** PostgreSQL settings below what the data needs (empty on the embedded store). */
  serverAdvice: { setting: 'shared_buffers' | 'max_wal_size'; value: string; minimum: string; advice: string }[];
}

export interface ApiKey {
  id: string;
  name: string | null;
  role: 'ingest' | 'admin';
  prefix: string;
  created_at: string;
  created_by?: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}
