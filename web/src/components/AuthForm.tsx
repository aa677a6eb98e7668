// The frame of the signed-out pages (sign in, change password): a card form with the
// language switch above it and the last attempt's error under the form's heading.
import type { FormEvent, ReactNode } from 'react';
import { LanguageSwitch } from './LanguageSwitch.tsx';
import { Notice } from './States.tsx';

export function AuthForm({
  labelledBy,
  head,
  error,
  onSubmit,
  children,
}: {
  /** The id of the heading in head. */
  labelledBy: string;
  head: ReactNode;
  error: string | null;
  onSubmit: (e: FormEvent) => void;
  children: ReactNode;
}) {
  return (
    <div className="auth-page">
      <div className="auth-lang">
        <LanguageSwitch />
      </div>
      <form className="auth-card" onSubmit={onSubmit} noValidate aria-labelledby={labelledBy}>
        {head}
        {error ? <Notice>{error}</Notice> : null}
        {children}
      </form>
    </div>
  );
}
