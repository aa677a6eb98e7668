// Test helpers: a user of a given role, signed in over HTTP; returns the cookie header.
import type { Kysely } from 'kysely';
import type { Database, UserRole } from '../../db/schema.ts';
import { createUser } from './users.service.ts';

let n = 0;

export async function signInAs(db: Kysely<Database>, baseUrl: string, role: UserRole): Promise<{ cookie: string; email: string; id: string }> {
  const email = `${role}${++n}_${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = 'correct horse battery';
  const { user } = await createUser(db, { workspaceId: 1, email, role, password, actor: 'test', now: new Date() });
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${role} failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie, email, id: user.id };
}
