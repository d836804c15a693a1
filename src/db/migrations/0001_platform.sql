-- 0001 platform: organizations, users, memberships, invites, API tokens, the audit log and auth
-- rate limits. Every table has ENABLE + FORCE ROW LEVEL SECURITY. Tenant tables carry org_id and
-- admit a row only when org_id equals the transaction's app.current_org. The app role
-- ({{app_role}}) owns nothing and gets only the privileges listed here. Cross-org lookups that must
-- exist are the SECURITY DEFINER functions at the end; the owner role (which runs migrations and
-- owns those functions) has narrow "definer" policies for exactly what they read or write.

-- The tenant context. An unset or empty GUC is NULL, and NULL matches no row (fail closed).
CREATE FUNCTION vt_current_org() RETURNS uuid
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT NULLIF(current_setting('app.current_org', true), '')::uuid $$;
CREATE FUNCTION vt_current_user() RETURNS uuid
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$ SELECT NULLIF(current_setting('app.current_user', true), '')::uuid $$;

-- Organizations (tenants). org_id mirrors id so every tenant table is scoped the same way.
CREATE TABLE orgs (
	id uuid PRIMARY KEY,
	org_id uuid GENERATED ALWAYS AS (id) STORED,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY orgs_tenant ON orgs
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY orgs_definer ON orgs FOR SELECT TO CURRENT_USER USING (true);

-- Users are global (one account, many orgs). A user row is visible to itself and to members of
-- the current org it belongs to. Credential columns are not readable by the app role at all.
CREATE TABLE users (
	id uuid PRIMARY KEY,
	email text NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
	name text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
	password_hash text CHECK (password_hash IS NULL OR length(password_hash) <= 512),
	totp_secret bytea,             -- envelope, kind "user_totp"
	totp_pending bytea,            -- envelope, kind "user_totp_pending" (enrolment in progress)
	totp_enabled boolean NOT NULL DEFAULT false,
	totp_last_counter bigint NOT NULL DEFAULT 0, -- last accepted TOTP step (replay guard)
	default_org_id uuid REFERENCES orgs (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK (NOT totp_enabled OR totp_secret IS NOT NULL)
);

CREATE TABLE memberships (
	org_id uuid NOT NULL REFERENCES orgs (id),
	user_id uuid NOT NULL REFERENCES users (id),
	org_role text NOT NULL CHECK (org_role IN ('owner', 'admin', 'member')),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_tenant ON memberships
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY memberships_definer ON memberships FOR SELECT TO CURRENT_USER USING (true);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_self_or_comember ON users
	USING (id = (SELECT vt_current_user())
	       OR EXISTS (SELECT 1 FROM memberships m
			  WHERE m.user_id = users.id AND m.org_id = (SELECT vt_current_org())))
	WITH CHECK (id = (SELECT vt_current_user()));
CREATE POLICY users_definer ON users FOR SELECT TO CURRENT_USER USING (true);

CREATE TABLE invites (
	id uuid PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id),
	email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
	org_role text NOT NULL CHECK (org_role IN ('owner', 'admin', 'member')),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	accepted_at timestamptz,
	accepted_by uuid REFERENCES users (id),
	revoked_at timestamptz
);
CREATE INDEX invites_org ON invites (org_id);
ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
CREATE POLICY invites_tenant ON invites
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY invites_definer ON invites FOR SELECT TO CURRENT_USER USING (true);

-- API tokens belong to the org, not a person. Only SHA-256(token) is stored.
CREATE TABLE api_tokens (
	id uuid PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	scopes text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 16),
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	revoked_at timestamptz,
	revoked_by uuid REFERENCES users (id)
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_tenant ON api_tokens
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY api_tokens_definer ON api_tokens FOR SELECT TO CURRENT_USER USING (true);

-- The audit log: append-only. Rows are written in the same transaction as the action they record.
-- org_id NULL marks a system event that belongs to no tenant (e.g. a login attempt for an unknown
-- e-mail); tenants never see those. The canonical encoding of a row is in docs/audit.md.
CREATE TABLE audit_log (
	id uuid PRIMARY KEY,
	seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
	org_id uuid REFERENCES orgs (id),
	time timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_token', 'system', 'anonymous')),
	actor_id uuid,
	actor_email text CHECK (length(actor_email) <= 254),
	action text NOT NULL CHECK (action ~ '^[A-Z][A-Z0-9_]{1,63}$'),
	resource_type text CHECK (length(resource_type) <= 64),
	resource_id text CHECK (length(resource_id) <= 128),
	outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
	source_ip text CHECK (length(source_ip) <= 64),
	request_id text CHECK (length(request_id) <= 64),
	detail text NOT NULL DEFAULT '{}' CHECK (length(detail) <= 16384),
	txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX audit_log_org_seq ON audit_log (org_id, seq);
CREATE INDEX audit_log_org_time ON audit_log (org_id, time);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_tenant_read ON audit_log FOR SELECT
	USING (org_id = (SELECT vt_current_org()));
CREATE POLICY audit_log_tenant_append ON audit_log FOR INSERT
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY audit_log_definer_system ON audit_log FOR INSERT TO CURRENT_USER
	WITH CHECK (org_id IS NULL);

-- Nobody, the owner included, updates or deletes audit rows through SQL. Statement-level, so an
-- attempt fails loudly even when row-level security leaves it no row to touch.
CREATE FUNCTION vt_audit_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_immutable();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_immutable();

-- Auth rate limits: losing them on a crash is harmless, so the table is UNLOGGED. Reached only
-- through vt_rate_hit().
CREATE UNLOGGED TABLE auth_rate_limits (
	key text PRIMARY KEY CHECK (length(key) <= 128),
	window_start timestamptz NOT NULL,
	hits integer NOT NULL
);
ALTER TABLE auth_rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_rate_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_rate_limits_definer ON auth_rate_limits TO CURRENT_USER
	USING (true) WITH CHECK (true);

-- ---------------------------------------------------------------------------------------------
-- SECURITY DEFINER functions: the only cross-org paths. Each returns the minimum its caller needs.

-- Records one hit for key; true while the key stays within p_max hits per window.
CREATE FUNCTION vt_rate_hit(p_key text, p_max integer, p_window_ms bigint) RETURNS boolean
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
	h integer;
	win interval := make_interval(secs => p_window_ms / 1000.0);
BEGIN
	INSERT INTO auth_rate_limits AS r (key, window_start, hits)
	VALUES (p_key, clock_timestamp(), 1)
	ON CONFLICT (key) DO UPDATE SET
		hits = CASE WHEN r.window_start + win <= clock_timestamp() THEN 1 ELSE r.hits + 1 END,
		window_start = CASE WHEN r.window_start + win <= clock_timestamp()
				    THEN clock_timestamp() ELSE r.window_start END
	RETURNING hits INTO h;
	IF random() < 0.01 THEN
		DELETE FROM auth_rate_limits WHERE window_start < clock_timestamp() - interval '1 day';
	END IF;
	RETURN h <= p_max;
END $$;

-- Login: the account for an e-mail (no tenant data).
CREATE FUNCTION vt_auth_lookup_email(p_email text)
	RETURNS TABLE (user_id uuid, password_hash text, default_org_id uuid)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT id, password_hash, default_org_id FROM users WHERE email = lower(p_email)
$$;

-- The current user's own credential columns (password hash, TOTP envelopes).
CREATE FUNCTION vt_self_credentials()
	RETURNS TABLE (password_hash text, totp_enabled boolean, totp_secret bytea,
		       totp_pending bytea, totp_last_counter bigint)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT password_hash, totp_enabled, totp_secret, totp_pending, totp_last_counter
	FROM users WHERE id = vt_current_user()
$$;

-- The current user's memberships across orgs, for /api/auth/me and org switching.
CREATE FUNCTION vt_self_orgs()
	RETURNS TABLE (org_id uuid, name text, org_role text, joined_at timestamptz)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT o.id, o.name, m.org_role, m.created_at
	FROM memberships m JOIN orgs o ON o.id = m.org_id
	WHERE m.user_id = vt_current_user()
	ORDER BY m.created_at, o.id
$$;

-- Bearer API token → its org and scopes, only while neither revoked nor expired.
CREATE FUNCTION vt_api_token_lookup(p_hash bytea)
	RETURNS TABLE (token_id uuid, org_id uuid, name text, scopes text[])
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT id, org_id, name, scopes FROM api_tokens
	WHERE token_hash = p_hash AND revoked_at IS NULL
	  AND (expires_at IS NULL OR expires_at > now())
$$;

-- Invite token → the pending invite it names.
CREATE FUNCTION vt_invite_lookup(p_hash bytea)
	RETURNS TABLE (invite_id uuid, org_id uuid, email text, org_role text)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT id, org_id, email, org_role FROM invites
	WHERE token_hash = p_hash AND accepted_at IS NULL AND revoked_at IS NULL
	  AND expires_at > now()
$$;

-- Whether an e-mail already has an account (invite acceptance decides new vs existing user).
CREATE FUNCTION vt_email_exists(p_email text) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT EXISTS (SELECT 1 FROM users WHERE email = lower(p_email))
$$;

-- A system audit row (org_id NULL): an event that belongs to no tenant.
CREATE FUNCTION vt_audit_append_system(p_id uuid, p_actor_type text, p_actor_id uuid,
	p_actor_email text, p_action text, p_resource_type text, p_resource_id text,
	p_outcome text, p_source_ip text, p_request_id text, p_detail text) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	INSERT INTO audit_log (id, org_id, actor_type, actor_id, actor_email, action,
		resource_type, resource_id, outcome, source_ip, request_id, detail)
	VALUES (p_id, NULL, p_actor_type, p_actor_id, p_actor_email, p_action, p_resource_type,
		p_resource_id, p_outcome, p_source_ip, p_request_id, p_detail)
$$;

-- ---------------------------------------------------------------------------------------------
-- Privileges of the app role: exactly what the server needs, nothing by default.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {{app_role}};
GRANT EXECUTE ON FUNCTION vt_current_org(), vt_current_user(), vt_rate_hit(text, integer, bigint),
	vt_auth_lookup_email(text), vt_self_credentials(), vt_self_orgs(),
	vt_api_token_lookup(bytea), vt_invite_lookup(bytea), vt_email_exists(text),
	vt_audit_append_system(uuid, text, uuid, text, text, text, text, text, text, text, text)
	TO {{app_role}};
GRANT SELECT, INSERT, UPDATE (name) ON orgs TO {{app_role}};
GRANT SELECT (id, email, name, totp_enabled, totp_last_counter, default_org_id, created_at)
	ON users TO {{app_role}};
GRANT INSERT ON users TO {{app_role}};
GRANT UPDATE (name, password_hash, totp_secret, totp_pending, totp_enabled, totp_last_counter,
	default_org_id) ON users TO {{app_role}};
GRANT SELECT, INSERT, UPDATE (org_role), DELETE ON memberships TO {{app_role}};
GRANT SELECT (id, org_id, email, org_role, created_by, created_at, expires_at, accepted_at,
	accepted_by, revoked_at) ON invites TO {{app_role}};
GRANT INSERT, UPDATE (accepted_at, accepted_by, revoked_at) ON invites TO {{app_role}};
GRANT SELECT (id, org_id, name, scopes, created_by, created_at, expires_at, revoked_at, revoked_by)
	ON api_tokens TO {{app_role}};
GRANT INSERT, UPDATE (revoked_at, revoked_by) ON api_tokens TO {{app_role}};
-- The database stamps time, seq and txid: the app role cannot backdate or reorder a row.
GRANT SELECT ON audit_log TO {{app_role}};
GRANT INSERT (id, org_id, actor_type, actor_id, actor_email, action, resource_type, resource_id,
	outcome, source_ip, request_id, detail) ON audit_log TO {{app_role}};
