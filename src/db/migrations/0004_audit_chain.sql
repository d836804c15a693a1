-- 0004 audit chain: each organization's audit rows form an RFC 6962 Merkle log. The sequencer
-- (one server at a time, docs/audit.md §7) gives every committed row its index, keeps the tree's
-- frontier, and signs checkpoints (C2SP notes) hash-linked to each other and stamped with the
-- deployment's license counter. audit_log itself is unchanged: rows stay immutable; the index
-- lives beside them.

-- The sequencer's order: rows are final once their transaction is older than the snapshot xmin;
-- it walks them by (txid, seq), which never lets a late commit fall behind its cursor.
CREATE INDEX audit_log_chain_order ON audit_log (txid, seq) WHERE org_id IS NOT NULL;
-- The definer functions below read every org's rows (never exposed to the app role).
CREATE POLICY audit_log_definer_read ON audit_log FOR SELECT TO CURRENT_USER USING (true);

-- The chain's tables are append-only for every role, like audit_log (statement-level triggers).
CREATE FUNCTION vt_audit_chain_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- Position of each row in its org's log. Append-only, like the rows it indexes.
-- No foreign keys: a key check would lock (and dirty) every indexed audit_log row and the org's
-- row on the hot path; a missing row is what the chain's verification reports anyway.
CREATE TABLE audit_index (
	org_id uuid NOT NULL,
	idx bigint NOT NULL CHECK (idx >= 0),
	audit_id uuid NOT NULL UNIQUE,
	leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
	PRIMARY KEY (org_id, idx)
);
ALTER TABLE audit_index ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_index FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_index_tenant ON audit_index
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE TRIGGER audit_index_no_update BEFORE UPDATE OR DELETE ON audit_index
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_chain_immutable();
CREATE TRIGGER audit_index_no_truncate BEFORE TRUNCATE ON audit_index
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_chain_immutable();

-- The live state of each org's log: its size, the Merkle frontier at that size (so appending costs
-- O(new rows)), and the newest checkpoint it links to.
CREATE TABLE audit_log_state (
	org_id uuid PRIMARY KEY REFERENCES orgs (id),
	size bigint NOT NULL CHECK (size >= 0),
	frontier bytea NOT NULL CHECK (length(frontier) <= 2025),
	checkpoint_size bigint NOT NULL DEFAULT 0 CHECK (checkpoint_size >= 0 AND checkpoint_size <= size),
	checkpoint_hash bytea CHECK (length(checkpoint_hash) = 32),
	checkpoint_counter bigint NOT NULL DEFAULT 0,
	-- the time line of the newest checkpoint (seconds): the next one never says earlier, even
	-- if the clock steps back
	checkpoint_time bigint NOT NULL DEFAULT 0,
	unsealed_since timestamptz,
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_log_state_unsealed ON audit_log_state (org_id) WHERE size > checkpoint_size;
ALTER TABLE audit_log_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log_state FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_state_tenant ON audit_log_state
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY audit_log_state_definer ON audit_log_state FOR SELECT TO CURRENT_USER USING (true);

-- Signed checkpoints. note is the whole C2SP signed note; root, counter and the hashes are copies
-- of what it says, for queries; frontier is the tree's frontier at size, which lets a verifier
-- resume from a checkpoint (it must fold to root, which the signature covers). Append-only.
CREATE TABLE audit_checkpoints (
	org_id uuid NOT NULL REFERENCES orgs (id),
	size bigint NOT NULL CHECK (size > 0),
	counter bigint NOT NULL CHECK (counter > 0),
	root bytea NOT NULL CHECK (length(root) = 32),
	prev_hash bytea CHECK (length(prev_hash) = 32),
	text_hash bytea NOT NULL CHECK (length(text_hash) = 32),
	frontier bytea NOT NULL CHECK (length(frontier) <= 2025),
	note text NOT NULL CHECK (length(note) <= 16384),
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (org_id, size)
);
CREATE UNIQUE INDEX audit_checkpoints_org_counter ON audit_checkpoints (org_id, counter);
CREATE INDEX audit_checkpoints_counter ON audit_checkpoints (counter);
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_checkpoints_tenant ON audit_checkpoints
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));
CREATE POLICY audit_checkpoints_definer ON audit_checkpoints FOR SELECT TO CURRENT_USER
	USING (true);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_chain_immutable();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION vt_audit_chain_immutable();

-- The sequencer's cursor (one row) and the rollback halt. Reached only through the functions
-- below. halt_* is set when the license counter shows the database lost checkpoints; an
-- operator's acknowledgement (ack_*) carries a MAC under a key derived from the master key, so
-- write access to the database alone cannot acknowledge a rollback.
CREATE TABLE audit_sequencer (
	id boolean PRIMARY KEY DEFAULT true CHECK (id),
	last_txid xid8 NOT NULL DEFAULT '0',
	last_seq bigint NOT NULL DEFAULT 0,
	halt_reason text CHECK (length(halt_reason) <= 512),
	halt_at timestamptz,
	ack_at timestamptz,
	ack_mac bytea CHECK (length(ack_mac) = 32),
	updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO audit_sequencer DEFAULT VALUES;
ALTER TABLE audit_sequencer ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_sequencer FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_sequencer_definer ON audit_sequencer TO CURRENT_USER
	USING (true) WITH CHECK (true);

-- The audit signing root: a 32-byte seed, sealed under the master key (envelope kind
-- "audit_signing_key"); each org's Ed25519 key derives from it (docs/audit.md). The deployment
-- name goes into every origin and is fixed at creation so origins never change.
CREATE TABLE audit_keys (
	id boolean PRIMARY KEY DEFAULT true CHECK (id),
	deployment text NOT NULL CHECK (deployment ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
	sealed bytea NOT NULL,
	key_version integer NOT NULL,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE audit_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_keys_definer ON audit_keys TO CURRENT_USER USING (true) WITH CHECK (true);

-- The signing root, created by the first server that needs it (concurrent first boots agree on
-- the row that won).
CREATE FUNCTION vt_audit_key_init(p_deployment text, p_sealed bytea, p_key_version integer)
	RETURNS TABLE (deployment text, sealed bytea)
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
	INSERT INTO audit_keys (deployment, sealed, key_version)
	VALUES (p_deployment, p_sealed, p_key_version) ON CONFLICT (id) DO NOTHING;
	RETURN QUERY SELECT k.deployment, k.sealed FROM audit_keys k;
END $$;

CREATE FUNCTION vt_audit_key() RETURNS TABLE (deployment text, sealed bytea, key_version integer)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT deployment, sealed, key_version FROM audit_keys
$$;

-- Master key rotation re-wraps the sealed root (compare-and-swap on the old envelope).
CREATE FUNCTION vt_audit_key_replace(p_old bytea, p_new bytea, p_key_version integer)
	RETURNS boolean
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	WITH u AS (UPDATE audit_keys SET sealed = p_new, key_version = p_key_version
		WHERE sealed = p_old RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

-- The next rows to sequence, across organizations: committed rows of finished transactions
-- (txid below the snapshot's xmin) after the cursor, in (txid, seq) order. Locks the cursor row,
-- so two sequencers can never interleave (the advisory lock already makes one the leader).
CREATE FUNCTION vt_audit_seq_next(p_limit integer)
	RETURNS TABLE (txid xid8, seq bigint, id uuid, org_id uuid, time_us bigint, actor_type text,
		actor_id uuid, actor_email text, action text, resource_type text, resource_id text,
		outcome text, source_ip text, request_id text, detail text)
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	WITH pos AS (SELECT last_txid, last_seq FROM audit_sequencer FOR UPDATE),
	     x AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
	SELECT l.txid, l.seq, l.id, l.org_id, (extract(epoch FROM l.time) * 1000000)::bigint,
		l.actor_type, l.actor_id, l.actor_email, l.action, l.resource_type, l.resource_id,
		l.outcome, l.source_ip, l.request_id, l.detail
	FROM pos, x, audit_log l
	WHERE l.org_id IS NOT NULL AND (l.txid, l.seq) > (pos.last_txid, pos.last_seq)
	  AND l.txid < x.xmin
	ORDER BY l.txid, l.seq
	LIMIT least(greatest(p_limit, 1), 100000)
$$;

-- Moves the cursor forward (never back) after the rows up to (p_txid, p_seq) were indexed.
CREATE FUNCTION vt_audit_seq_advance(p_txid xid8, p_seq bigint) RETURNS void
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
	-- Only over finished transactions: the cursor can never be pushed past rows to come.
	IF p_txid >= pg_snapshot_xmin(pg_current_snapshot()) THEN
		RAISE EXCEPTION 'audit sequencer cursor beyond the finished transactions'
			USING ERRCODE = 'check_violation';
	END IF;
	UPDATE audit_sequencer SET last_txid = p_txid, last_seq = p_seq,
		updated_at = clock_timestamp()
	WHERE (p_txid, p_seq) > (last_txid, last_seq);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'audit sequencer cursor would move backwards'
			USING ERRCODE = 'check_violation';
	END IF;
END $$;

-- Organizations with rows sequenced but not yet sealed by a checkpoint.
CREATE FUNCTION vt_audit_unsealed_orgs() RETURNS SETOF uuid
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT org_id FROM audit_log_state WHERE size > checkpoint_size
$$;

-- Organizations whose log has at least one checkpoint (the background verifier walks them).
CREATE FUNCTION vt_audit_chain_orgs() RETURNS SETOF uuid
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT org_id FROM audit_log_state WHERE checkpoint_size > 0 ORDER BY org_id
$$;

-- The newest license counter any checkpoint carries, deployment-wide (0 when none).
CREATE FUNCTION vt_audit_max_counter() RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT coalesce(max(counter), 0) FROM audit_checkpoints
$$;

-- Rollback halt: read, raise (keeps the first reason), acknowledge.
CREATE FUNCTION vt_audit_halt() RETURNS TABLE (halt_reason text, halt_at timestamptz,
	ack_at timestamptz, ack_mac bytea)
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	SELECT halt_reason, halt_at, ack_at, ack_mac FROM audit_sequencer
$$;

CREATE FUNCTION vt_audit_halt_raise(p_reason text) RETURNS boolean
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	WITH u AS (UPDATE audit_sequencer SET halt_reason = p_reason, halt_at = clock_timestamp(),
		ack_at = NULL, ack_mac = NULL WHERE halt_reason IS NULL RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

CREATE FUNCTION vt_audit_halt_ack(p_mac bytea) RETURNS boolean
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	WITH u AS (UPDATE audit_sequencer SET ack_at = clock_timestamp(), ack_mac = p_mac
		WHERE halt_reason IS NOT NULL RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u)
$$;

-- Called by the sequencer once it verified the acknowledgement and re-based the counter file.
CREATE FUNCTION vt_audit_halt_clear() RETURNS void
	LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
	UPDATE audit_sequencer SET halt_reason = NULL, halt_at = NULL, ack_at = NULL, ack_mac = NULL
$$;

REVOKE ALL ON audit_index, audit_log_state, audit_checkpoints, audit_sequencer, audit_keys
	FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT SELECT, INSERT ON audit_index TO {{app_role}};
GRANT SELECT, INSERT, UPDATE ON audit_log_state TO {{app_role}};
GRANT SELECT, INSERT ON audit_checkpoints TO {{app_role}};
GRANT EXECUTE ON FUNCTION vt_audit_key_init(text, bytea, integer), vt_audit_key(),
	vt_audit_key_replace(bytea, bytea, integer), vt_audit_seq_next(integer),
	vt_audit_seq_advance(xid8, bigint), vt_audit_unsealed_orgs(), vt_audit_chain_orgs(),
	vt_audit_max_counter(), vt_audit_halt(), vt_audit_halt_raise(text), vt_audit_halt_ack(bytea),
	vt_audit_halt_clear()
	TO {{app_role}};
