-- 0005 scanner: what the exposure scanner needs to recognize an organization's stored secret
-- values in output without their plaintext (docs/scanner-server.md). Same rules as before:
-- ENABLE + FORCE RLS keyed on vt_current_org(), no PUBLIC grants, the app role ({{app_role}}) gets
-- only the columns it writes. No SECURITY DEFINER function touches these tables: master key
-- rotation re-wraps scanner_keys under each org's own RLS context, like secret_versions.

-- One row per organization, created on first need (the first fingerprinted secret write): 48
-- random bytes (SipHash key 16 ‖ HMAC-SHA256 key 32) sealed as an envelope of kind "scanner_key"
-- (org = the org, record = the org id, version 1) under the current master key version.
-- key_version mirrors the envelope's master key version so a rotation finds what to re-wrap.
CREATE TABLE scanner_keys (
	org_id uuid PRIMARY KEY REFERENCES orgs (id),
	key_version integer NOT NULL CHECK (key_version >= 1),
	envelope bytea NOT NULL CHECK (length(envelope) = 149),
	created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE scanner_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE scanner_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY scanner_keys_tenant ON scanner_keys
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

-- Keyed fingerprints of the sensitive field values of each secret's CURRENT version (never the
-- values): anchor_sip = SipHash-2-4 of the value's longest token (as a signed 64-bit integer),
-- anchor_off = where that token starts in the value, len = the value's length, mac =
-- HMAC-SHA256 of the whole value; both keys come from the org's scanner key. A value gives one or
-- two rows (itself and its whitespace-trimmed form). Replaced on every write of the secret, gone
-- with it (ON DELETE CASCADE).
CREATE TABLE secret_fingerprints (
	org_id uuid NOT NULL REFERENCES orgs (id),
	secret_id uuid NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
	field text NOT NULL CHECK (field ~ '^[a-z_]{1,32}$'),
	anchor_sip bigint NOT NULL,
	anchor_off integer NOT NULL CHECK (anchor_off >= 0),
	len integer NOT NULL CHECK (len >= 8 AND len <= 4096 AND anchor_off < len),
	mac bytea NOT NULL CHECK (length(mac) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (secret_id, field, mac)
);
CREATE INDEX secret_fingerprints_org ON secret_fingerprints (org_id);
ALTER TABLE secret_fingerprints ENABLE ROW LEVEL SECURITY;
ALTER TABLE secret_fingerprints FORCE ROW LEVEL SECURITY;
CREATE POLICY secret_fingerprints_tenant ON secret_fingerprints
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

REVOKE ALL ON scanner_keys, secret_fingerprints FROM PUBLIC;
GRANT SELECT (org_id, key_version, envelope, created_at) ON scanner_keys TO {{app_role}};
GRANT INSERT (org_id, key_version, envelope) ON scanner_keys TO {{app_role}};
GRANT UPDATE (key_version, envelope) ON scanner_keys TO {{app_role}};
GRANT SELECT (org_id, secret_id, field, anchor_sip, anchor_off, len, mac, created_at)
	ON secret_fingerprints TO {{app_role}};
GRANT INSERT (org_id, secret_id, field, anchor_sip, anchor_off, len, mac)
	ON secret_fingerprints TO {{app_role}};
GRANT DELETE ON secret_fingerprints TO {{app_role}};
