-- 0002 vault: vaults, vault membership, typed secrets and their envelope-encrypted versions, and
-- the stored master key versions of the keyring. Same rules as 0001: ENABLE + FORCE RLS
-- everywhere, tenant tables scoped by org_id, the app role ({{app_role}}) gets only what the
-- server needs, and the only cross-org paths are the SECURITY DEFINER functions at the end.

-- Master key versions >= 2, each wrapped under the root key (never plaintext). Not tenant data:
-- reached only through vt_master_keys() / vt_master_key_add().
CREATE TABLE master_keys (
	version integer PRIMARY KEY CHECK (version >= 2),
	wrapped bytea NOT NULL CHECK (length(wrapped) = 60),
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE master_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE master_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY master_keys_definer ON master_keys TO CURRENT_USER USING (true) WITH CHECK (true);

-- One envelope sealed under the root key at first boot; every later boot opens it, so a server
-- started with the wrong master key refuses to run instead of writing data nobody can read.
CREATE TABLE keyring_check (
	id integer PRIMARY KEY CHECK (id = 1),
	envelope bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE keyring_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE keyring_check FORCE ROW LEVEL SECURITY;
CREATE POLICY keyring_check_definer ON keyring_check TO CURRENT_USER USING (true) WITH CHECK (true);

CREATE TABLE vaults (
	id uuid PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (org_id, name)
);
ALTER TABLE vaults ENABLE ROW LEVEL SECURITY;
ALTER TABLE vaults FORCE ROW LEVEL SECURITY;
CREATE POLICY vaults_tenant ON vaults
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

CREATE TABLE vault_members (
	org_id uuid NOT NULL REFERENCES orgs (id),
	vault_id uuid NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	user_id uuid NOT NULL REFERENCES users (id),
	role text NOT NULL CHECK (role IN ('VIEWER', 'EDITOR', 'ADMIN', 'OWNER')),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (vault_id, user_id)
);
CREATE INDEX vault_members_user ON vault_members (org_id, user_id);
ALTER TABLE vault_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE vault_members FORCE ROW LEVEL SECURITY;
CREATE POLICY vault_members_tenant ON vault_members
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

-- Vault access requires org membership: leaving the org ends every vault role in it (a
-- re-invited user starts with none).
CREATE FUNCTION vt_membership_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM vault_members WHERE org_id = OLD.org_id AND user_id = OLD.user_id;
	RETURN OLD;
END $$;
CREATE TRIGGER memberships_removed AFTER DELETE ON memberships
	FOR EACH ROW EXECUTE FUNCTION vt_membership_removed();

-- Secrets: metadata only. Every field value lives in secret_versions.envelope.
CREATE TABLE secrets (
	id uuid PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id),
	vault_id uuid NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
	type text NOT NULL CHECK (type IN ('PASSWORD', 'API_KEY', 'SSH_KEY', 'ENV_VAR',
		'SECURE_NOTE', 'TOTP', 'PAYMENT_CARD', 'IDENTITY', 'PASSKEY')),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 32),
	inject_only boolean NOT NULL DEFAULT false,
	version integer NOT NULL CHECK (version >= 1),
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_by uuid REFERENCES users (id),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (vault_id, name)
);
CREATE INDEX secrets_org_vault ON secrets (org_id, vault_id);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY secrets_tenant ON secrets
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

-- One row per version: the fields as one envelope (kind "secret_version", or
-- "secret_version+inject_only" when sealed for an inject-only secret; record = secret id,
-- version = version, org = org). key_version mirrors the envelope's master key version so a
-- rotation finds what it must re-wrap without opening anything.
CREATE TABLE secret_versions (
	org_id uuid NOT NULL REFERENCES orgs (id),
	secret_id uuid NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	version integer NOT NULL CHECK (version >= 1),
	key_version integer NOT NULL CHECK (key_version >= 1),
	inject_only boolean NOT NULL DEFAULT false, -- the flag sealed into the envelope's kind
	envelope bytea NOT NULL CHECK (length(envelope) BETWEEN 101 AND 4194405),
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (secret_id, version)
);
CREATE INDEX secret_versions_rotation ON secret_versions (org_id, key_version);
ALTER TABLE secret_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE secret_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY secret_versions_tenant ON secret_versions
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

-- ---------------------------------------------------------------------------------------------
-- SECURITY DEFINER functions.

-- The stored master key versions (wrapped under the root).
CREATE FUNCTION vt_master_keys() RETURNS TABLE (version integer, wrapped bytea)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT version, wrapped FROM master_keys ORDER BY version
$$;

-- Records a new version; fails (unique violation) if another rotation took the number.
CREATE FUNCTION vt_master_key_add(p_version integer, p_wrapped bytea) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	INSERT INTO master_keys (version, wrapped) VALUES (p_version, p_wrapped)
$$;

CREATE FUNCTION vt_keyring_check() RETURNS bytea
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT envelope FROM keyring_check WHERE id = 1
$$;
-- First boot only: never replaces an existing check.
CREATE FUNCTION vt_keyring_check_init(p_envelope bytea) RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	INSERT INTO keyring_check (id, envelope) VALUES (1, p_envelope) ON CONFLICT (id) DO NOTHING
$$;

-- Rotation visits every org (ids only; each org's rows are then re-wrapped under its own RLS
-- context and audited in its own trail).
CREATE FUNCTION vt_org_ids() RETURNS SETOF uuid
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT id FROM orgs ORDER BY id
$$;

-- Users' TOTP seed envelopes for rotation, and their in-place replacement. The envelopes are
-- opaque without the master key; the update changes nothing but the envelope bytes.
CREATE FUNCTION vt_totp_envelopes() RETURNS TABLE (user_id uuid, totp_secret bytea,
	totp_pending bytea)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT id, totp_secret, totp_pending FROM users
	WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL ORDER BY id
$$;
CREATE POLICY users_definer_rewrap ON users FOR UPDATE TO CURRENT_USER
	USING (true) WITH CHECK (true);
CREATE FUNCTION vt_totp_envelopes_replace(p_user uuid, p_old_secret bytea, p_secret bytea,
	p_old_pending bytea, p_pending bytea) RETURNS boolean
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	WITH u AS (
		UPDATE users SET totp_secret = p_secret, totp_pending = p_pending
		WHERE id = p_user AND totp_secret IS NOT DISTINCT FROM p_old_secret
		  AND totp_pending IS NOT DISTINCT FROM p_old_pending
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

REVOKE ALL ON master_keys, keyring_check, vaults, vault_members, secrets, secret_versions
	FROM PUBLIC;
REVOKE ALL ON FUNCTION vt_keyring_check(), vt_keyring_check_init(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vt_keyring_check(), vt_keyring_check_init(bytea) TO {{app_role}};
REVOKE ALL ON FUNCTION vt_master_keys(), vt_master_key_add(integer, bytea), vt_org_ids(),
	vt_totp_envelopes(), vt_totp_envelopes_replace(uuid, bytea, bytea, bytea, bytea),
	vt_membership_removed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vt_master_keys(), vt_master_key_add(integer, bytea), vt_org_ids(),
	vt_totp_envelopes(), vt_totp_envelopes_replace(uuid, bytea, bytea, bytea, bytea),
	vt_membership_removed() TO {{app_role}};
GRANT SELECT, INSERT, UPDATE (name, description, updated_at), DELETE ON vaults TO {{app_role}};
GRANT SELECT, INSERT, UPDATE (role), DELETE ON vault_members TO {{app_role}};
GRANT SELECT, INSERT, DELETE ON secrets TO {{app_role}};
GRANT UPDATE (name, tags, inject_only, version, updated_by, updated_at) ON secrets TO {{app_role}};
GRANT SELECT, INSERT ON secret_versions TO {{app_role}};
GRANT UPDATE (envelope, key_version) ON secret_versions TO {{app_role}};
