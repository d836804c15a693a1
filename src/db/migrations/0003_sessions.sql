-- 0003 sessions: server-side ends for user sessions (JWTs). A JWT stays stateless, but every
-- request already re-reads the user's membership; it now also checks two things in that same
-- query: the user's sessions_valid_after (set by "log out everywhere" and by a password change:
-- every token issued before it is refused) and a per-token revocation list (a plain logout).

ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT '-infinity';

-- One row per logged-out token until it would have expired anyway.
CREATE TABLE revoked_sessions (
	jti text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 64),
	user_id uuid NOT NULL REFERENCES users (id),
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);
ALTER TABLE revoked_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE revoked_sessions FORCE ROW LEVEL SECURITY;
-- Not tenant data: a user sees and writes only their own rows (like users).
CREATE POLICY revoked_sessions_self ON revoked_sessions
	USING (user_id = (SELECT vt_current_user()))
	WITH CHECK (user_id = (SELECT vt_current_user()));

REVOKE ALL ON revoked_sessions FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON revoked_sessions TO {{app_role}};
GRANT SELECT (sessions_valid_after), UPDATE (sessions_valid_after) ON users TO {{app_role}};
