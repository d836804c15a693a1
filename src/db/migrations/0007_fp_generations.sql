-- 0007 fingerprint generations: what lets every server process keep ONE shared copy of an org's
-- fingerprint set (src/vault/fpcache.c, docs/scanner.md "Vault fingerprints") and still never scan
-- with a stale one. Same rules as before: ENABLE + FORCE RLS keyed on vt_current_org(), nothing
-- granted to PUBLIC, the app role ({{app_role}}) gets only what it uses.

-- One row per org whose fingerprints (or scanner key) ever changed: a new value of the sequence
-- is stored by every statement that inserts, updates or deletes the org's rows of
-- secret_fingerprints or scanner_keys, in that statement's own transaction (the triggers below,
-- which also fire for the ON DELETE CASCADE from secrets and vaults). A reader that sees
-- generation G in its snapshot sees exactly the rows committed with G. Values come from a
-- sequence rather than generation + 1 so that a number is never handed out twice, not even by a
-- transaction that rolled back: a set cached under a generation that was never committed can
-- never match a later one. The row lock taken by the update orders concurrent writers of one org
-- (generation order = commit order). No row: generation 0 (nothing changed since this migration;
-- a set loaded then is tagged 0 and the first change makes the row, at a value >= 1).
CREATE SEQUENCE secret_fp_generation_seq AS bigint MINVALUE 1 NO CYCLE;
CREATE TABLE secret_fp_generations (
	org_id uuid PRIMARY KEY REFERENCES orgs (id),
	generation bigint NOT NULL CHECK (generation >= 1),
	changed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE secret_fp_generations ENABLE ROW LEVEL SECURITY;
ALTER TABLE secret_fp_generations FORCE ROW LEVEL SECURITY;
CREATE POLICY secret_fp_generations_tenant ON secret_fp_generations
	USING (org_id = (SELECT vt_current_org()))
	WITH CHECK (org_id = (SELECT vt_current_org()));

-- Statement level, with the changed rows as transition tables: one bump per org per statement,
-- whatever the number of rows (a vault's deletion cascades to thousands). SECURITY INVOKER: a
-- direct write runs under the writer's RLS context (another org's row can be neither read nor
-- bumped); a cascade runs, like every referential action, as the tables' owner.
CREATE FUNCTION vt_fp_generation_bump() RETURNS trigger LANGUAGE plpgsql
	SET search_path = pg_catalog, public AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO secret_fp_generations (org_id, generation)
		SELECT o, nextval('secret_fp_generation_seq') FROM (SELECT DISTINCT org_id AS o
			FROM vt_fp_new) c
		ON CONFLICT (org_id) DO UPDATE SET generation = excluded.generation, changed_at = now();
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO secret_fp_generations (org_id, generation)
		SELECT o, nextval('secret_fp_generation_seq') FROM (SELECT DISTINCT org_id AS o
			FROM vt_fp_old) c
		ON CONFLICT (org_id) DO UPDATE SET generation = excluded.generation, changed_at = now();
	ELSE
		INSERT INTO secret_fp_generations (org_id, generation)
		SELECT o, nextval('secret_fp_generation_seq') FROM (SELECT org_id AS o FROM vt_fp_old
			UNION SELECT org_id FROM vt_fp_new) c
		ON CONFLICT (org_id) DO UPDATE SET generation = excluded.generation, changed_at = now();
	END IF;
	RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION vt_fp_generation_bump() FROM PUBLIC;

CREATE TRIGGER secret_fingerprints_gen_ins AFTER INSERT ON secret_fingerprints
	REFERENCING NEW TABLE AS vt_fp_new
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();
CREATE TRIGGER secret_fingerprints_gen_upd AFTER UPDATE ON secret_fingerprints
	REFERENCING OLD TABLE AS vt_fp_old NEW TABLE AS vt_fp_new
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();
CREATE TRIGGER secret_fingerprints_gen_del AFTER DELETE ON secret_fingerprints
	REFERENCING OLD TABLE AS vt_fp_old
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();
-- The scanner key is part of the set too (created on the org's first fingerprinted write;
-- re-wrapped by master key rotation, which does not change it but is rare enough to bump).
CREATE TRIGGER scanner_keys_gen_ins AFTER INSERT ON scanner_keys
	REFERENCING NEW TABLE AS vt_fp_new
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();
CREATE TRIGGER scanner_keys_gen_upd AFTER UPDATE ON scanner_keys
	REFERENCING OLD TABLE AS vt_fp_old NEW TABLE AS vt_fp_new
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();
CREATE TRIGGER scanner_keys_gen_del AFTER DELETE ON scanner_keys
	REFERENCING OLD TABLE AS vt_fp_old
	FOR EACH STATEMENT EXECUTE FUNCTION vt_fp_generation_bump();

REVOKE ALL ON secret_fp_generations, secret_fp_generation_seq FROM PUBLIC;
-- The trigger runs as the writer (the app role): it reads and upserts the org's own row and takes
-- sequence values. No DELETE: a generation never goes back.
GRANT SELECT (org_id, generation, changed_at) ON secret_fp_generations TO {{app_role}};
GRANT INSERT (org_id, generation) ON secret_fp_generations TO {{app_role}};
GRANT UPDATE (generation, changed_at) ON secret_fp_generations TO {{app_role}};
GRANT USAGE ON SEQUENCE secret_fp_generation_seq TO {{app_role}};
