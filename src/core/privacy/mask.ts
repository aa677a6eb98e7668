// The one masking rule for personal data in API answers and exports: phone
// 13812345678 → 138****5678, email zhang@example.com → z***@example.com.
// Roles that serve customers one at a time or only look (agent, viewer) see
// masked values; admin, operator and analyst see them in full.
import type { Role } from '../../server/auth.ts';

export const UNMASKED_ROLES: readonly Role[] = ['admin', 'operator', 'analyst'];

export function mustMask(role: Role): boolean {
  return !UNMASKED_ROLES.includes(role);
}

export function maskPhone(phone: string | null): string | null {
  if (phone === null || phone === '') return phone;
  const s = phone.trim();
  if (s.length >= 7) return `${s.slice(0, 3)}****${s.slice(-4)}`;
  if (s.length >= 3) return `****${s.slice(-2)}`;
  return '****';
}

export function maskEmail(email: string | null): string | null {
  if (email === null || email === '') return email;
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** A copy of a record with its phone and email fields masked when the role calls for it. */
export function maskRecord<T extends { phone?: string | null; email?: string | null }>(row: T, role: Role): T {
  if (!mustMask(role)) return row;
  const out = { ...row };
  if ('phone' in out) out.phone = maskPhone(out.phone ?? null);
  if ('email' in out) out.email = maskEmail(out.email ?? null);
  return out;
}
