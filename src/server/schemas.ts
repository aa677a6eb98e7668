// Schema pieces the route files share.
import Type from 'typebox';

/** A timestamp: Date in handlers, ISO 8601 text on the wire. */
export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableDateTime = Type.Unsafe<Date | string | null>({ type: 'string', format: 'date-time', nullable: true });
export const RoleSchema = Type.Union([
  Type.Literal('admin'),
  Type.Literal('operator'),
  Type.Literal('analyst'),
  Type.Literal('agent'),
  Type.Literal('viewer'),
]);
export const LocaleSchema = Type.Union([Type.Literal('zh-CN'), Type.Literal('en')]);

/** A workspace's settings, as /api/settings/workspace and /api/auth/me return them. */
export const WorkspaceSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  time_zone: Type.String(),
  currency: Type.String(),
  locale: Type.String(),
  industry: Type.String(),
});
