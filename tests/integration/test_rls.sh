#!/usr/bin/env bash
# Row-level security, proven at the database rather than through the API: what the app role
# (vaultterm_app, the role the server connects as) can and cannot see or write when it talks to
# PostgreSQL directly, as a server bug or an SQL injection would. Two orgs with rows in every
# table are created through the API first; then psql checks (a)-(h):
#  (a) no tenant context ⇒ every table but schema_migrations shows the app role zero rows (or the
#      app role cannot read it at all), while the superuser sees rows;
#  (b) the catalog: every table (and certainly every table with org_id) has ENABLE + FORCE RLS and
#      a policy on vt_current_org(); SECURITY DEFINER functions pin search_path; no PUBLIC grants;
#  (c) the app role is neither superuser nor BYPASSRLS, owns nothing and inherits no role;
#  (d) with app.current_org = A only A's rows are visible, and rows for B cannot be written;
#  (e) audit_log is append-only for the app role, the owner role and even the superuser;
#  (f) credential columns are unreadable by the app role (also as a WHERE-clause oracle);
#  (g) set_config(..., true) does not outlive its transaction on the same connection;
#  (h) the empty-string GUC left behind by (g) means zero rows, not an error.
. "$(dirname "$0")/lib.sh"

vt_start

PW='correct horse battery staple'

# reg EMAIL: registers; sets REG_TOKEN, REG_USER, REG_ORG.
reg() {
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$PW" '{email:$e,password:$p}')"
	expect_status 201 "register $1"
	REG_TOKEN=$(jq -r .token <<<"$BODY")
	REG_USER=$(jq -r .user.id <<<"$BODY")
	REG_ORG=$(jq -r .org.id <<<"$BODY")
}

# sql_try ROLE SQL: runs SQL (psql script; :'a' and :'b' are org A's and B's ids) in ONE session
# as ROLE (app | owner | super). Sets SQL_RC and SQL_OUT (stdout and stderr together).
sql_try() {
	local user pw
	case $1 in
	app) user=vaultterm_app pw=$(vt_secret PG_APP_PASSWORD) ;;
	owner) user=vaultterm_owner pw=$(vt_secret PG_OWNER_PASSWORD) ;;
	super) user=postgres pw=$(vt_secret PG_SUPERUSER_PASSWORD) ;;
	esac
	SQL_OUT=$(psql_as "$user" "$pw" -v a="$A_ORG" -v b="$B_ORG" -f - <<<"$2" 2>&1) &&
		SQL_RC=0 || SQL_RC=$?
}

# expect_sql_ok ROLE SQL EXPECTED WHAT: SQL succeeds and prints exactly EXPECTED.
expect_sql_ok() {
	sql_try "$1" "$2"
	if [ "$SQL_RC" -ne 0 ]; then
		fail "$4: SQL failed (rc $SQL_RC): $SQL_OUT"
		return 0
	fi
	expect_eq "$3" "$SQL_OUT" "$4"
}

# expect_sql_err ROLE SQL ERE WHAT: SQL fails with an error message matching ERE.
expect_sql_err() {
	sql_try "$1" "$2"
	if [ "$SQL_RC" -eq 0 ]; then
		fail "$4: SQL succeeded but must fail: $SQL_OUT"
	elif grep -Eq "$3" <<<"$SQL_OUT"; then
		pass
	else
		fail "$4: SQL failed, but not with /$3/: $SQL_OUT"
	fi
}

# ---- data: org A (alice + member carol + pending invite + token), org B (bob + token + invite)
reg alice@rls.example
A_TOKEN=$REG_TOKEN A_USER=$REG_USER A_ORG=$REG_ORG
reg bob@rls.example
B_TOKEN=$REG_TOKEN B_USER=$REG_USER B_ORG=$REG_ORG

api POST /api/orgs/current/invites '{"email":"carol@rls.example","org_role":"member"}' "$A_TOKEN"
expect_status 201 "A invites carol"
invite=$(jq -r .invite_token <<<"$BODY")
api POST /api/auth/accept-invite "$(jq -nc --arg t "$invite" --arg p "$PW" \
	'{invite_token:$t,password:$p}')"
expect_status 200 "carol accepts"
api POST /api/orgs/current/invites '{"email":"dave@rls.example"}' "$A_TOKEN"
expect_status 201 "A invites dave (stays pending)"
api POST /api/tokens '{"name":"a-ci","scopes":["audit:read"]}' "$A_TOKEN"
expect_status 201 "A token"
api POST /api/orgs/current/invites '{"email":"erin@rls.example"}' "$B_TOKEN"
expect_status 201 "B invites erin"
api POST /api/tokens '{"name":"b-ci","scopes":["admin"]}' "$B_TOKEN"
expect_status 201 "B token"
# Vaults, a vault membership and secrets in both orgs (each secret write also creates its org's
# scanner key and the secret's fingerprints), and a stored master key version.
api POST /api/vault/vaults '{"name":"a-prod"}' "$A_TOKEN"
expect_status 201 "A vault"
A_VAULT=$(jq -r .id <<<"$BODY")
api POST "/api/vault/vaults/$A_VAULT/secrets" \
	'{"type":"PASSWORD","name":"db","fields":{"password":"rls-canary-a"}}' "$A_TOKEN"
expect_status 201 "A secret"
CAROL=$(psql_super "SELECT id FROM users WHERE email = 'carol@rls.example'")
api PUT "/api/vault/vaults/$A_VAULT/members/$CAROL" '{"role":"VIEWER"}' "$A_TOKEN"
expect_status 200 "carol joins A's vault"
api POST /api/vault/vaults '{"name":"b-prod"}' "$B_TOKEN"
expect_status 201 "B vault"
B_VAULT=$(jq -r .id <<<"$BODY")
api POST "/api/vault/vaults/$B_VAULT/secrets" \
	'{"type":"API_KEY","name":"k","fields":{"key":"rls-canary-b"}}' "$B_TOKEN"
expect_status 201 "B secret"
B_SECRET=$(jq -r .id <<<"$BODY")
if vt operator rotate-master --data-dir "$VT_DATA" --settle-ms 0 >/dev/null 2>"$VT_TMP/rot.err"; then
	pass
else
	fail "rotate-master: $(cat "$VT_TMP/rot.err")"
fi

# The SSH broker's tables (schema 6). The broker writes terminal sessions, recording chunks and its
# host key over SSH; keys, profiles and tickets come from /api/ssh. Here the superuser plants one row
# per org in each (and the deployment's host key, unless the broker already made it), so every
# table below has rows to hide. Values are shaped like real ones; none is ever used to connect.
for o in A B; do
	org=$([ $o = A ] && echo "$A_ORG" || echo "$B_ORG")
	usr=$([ $o = A ] && echo "$A_USER" || echo "$B_USER")
	sec=$(psql_super "SELECT id FROM secrets WHERE org_id = '$org' LIMIT 1")
	psql_super "INSERT INTO ssh_keys (id, org_id, user_id, name, public_key, fingerprint)
		VALUES (gen_random_uuid(), '$org', '$usr', 'laptop',
		'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOVvPQZ1uJX4g0a4JQ6z4Qm0l5bq0nqXw0N0Yd8o1yQk',
		'SHA256:' || rtrim(encode(sha256('rls-fixture-$o'), 'base64'), '='))" >/dev/null
	prof=$(psql_super "INSERT INTO ssh_profiles (id, org_id, name, host, username,
		credential_secret_id, created_by) VALUES (gen_random_uuid(), '$org', 'prod-$o',
		'db.internal', 'deploy', '$sec', '$usr') RETURNING id")
	psql_super "INSERT INTO ssh_tickets (ticket_hash, org_id, user_id, profile_id, expires_at)
		VALUES (sha256('rls-ticket-$o'), '$org', '$usr', '$prof', now() + interval '60 s')" >/dev/null
	sess=$(psql_super "INSERT INTO terminal_sessions (id, org_id, profile_id, profile_name, user_id,
		kind) VALUES (gen_random_uuid(), '$org', '$prof', 'prod-$o', '$usr', 'shell') RETURNING id")
	psql_super "INSERT INTO recording_chunks (org_id, session_id, seq, key_version, envelope)
		VALUES ('$org', '$sess', 0, 1, '\\x00')" >/dev/null
done
psql_super "INSERT INTO broker_host_keys (algorithm, public_key, sealed, key_version)
	VALUES ('ssh-ed25519', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOVvPQZ1uJX4g0a4JQ6z4Qm0l5bq0nqXw0N0Yd8o1yQk',
	'\\x00', 1) ON CONFLICT (id) DO NOTHING" >/dev/null

# A logged-out session (revoked_sessions).
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"alice@rls.example",password:$p}')"
expect_status 200 "alice logs in again"
api POST /api/auth/logout "" "$(jq -r .token <<<"$BODY")"
expect_status 204 "and logs that session out"

# A tenant LOGIN_FAILED row and a system (org_id NULL) one.
api POST /api/auth/login "$(jq -nc '{email:"alice@rls.example",password:"wrong password here"}')"
expect_status 401 "bad password"
api POST /api/auth/login "$(jq -nc '{email:"nobody@rls.example",password:"wrong password here"}')"
expect_status 401 "unknown account"

# The audit chain's tables fill once the sequencer has sealed both orgs' logs (within about
# AUDIT_CHECKPOINT_INTERVAL_MS).
for _ in $(seq 1 100); do
	n=$(psql_super "SELECT count(DISTINCT org_id) FROM audit_checkpoints
		WHERE org_id IN ('$A_ORG', '$B_ORG')")
	[ "$n" = 2 ] && break
	sleep 0.1
done
expect_eq 2 "$n" "both orgs' audit logs are sealed by a checkpoint"

# ---- (a) no org set: zero rows for the app role, rows for the superuser ------------------------
TABLES_SQL="SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'
	ORDER BY 1"
tables=$(psql_super "$TABLES_SQL")
for t in api_tokens audit_log auth_rate_limits invites memberships orgs users keyring_check \
	master_keys revoked_sessions secret_versions secrets vault_members vaults audit_index \
	audit_log_state audit_checkpoints audit_sequencer audit_keys scanner_keys \
	secret_fingerprints broker_host_keys ssh_keys ssh_profiles ssh_tickets terminal_sessions \
	recording_chunks; do
	grep -qx "$t" <<<"$tables" && pass || fail "(a) table $t is missing from the enumeration"
done
ntables=0
for t in $tables; do
	ntables=$((ntables + 1))
	n=$(psql_super "SELECT count(*) FROM public.\"$t\"")
	[ "$n" -gt 0 ] && pass || fail "(a) the superuser sees no rows in $t: the check proves nothing"
	# count(*) needs SELECT on the table or on at least one column (column grants suffice:
	# users, invites and api_tokens are readable only column by column).
	readable=$(psql_super "SELECT has_table_privilege('vaultterm_app', 'public.\"$t\"', 'SELECT')
		OR has_any_column_privilege('vaultterm_app', 'public.\"$t\"', 'SELECT')")
	if [ "$readable" = t ]; then
		expect_sql_ok app "SELECT count(*) FROM public.\"$t\";" 0 "(a) app role, no org: rows in $t"
	else
		# No SELECT at all (auth_rate_limits: reached only through vt_rate_hit): stronger than
		# zero rows. Prove the app role really is refused.
		expect_sql_err app "SELECT count(*) FROM public.\"$t\";" "permission denied for table" \
			"(a) app role reading $t"
	fi
done
[ "$ntables" -ge 7 ] && pass || fail "(a) only $ntables tables enumerated"
# The hint, verified: count(*) works with column-level grants only (users has no table grant).
expect_sql_ok super "SELECT has_table_privilege('vaultterm_app', 'public.users', 'SELECT');" f \
	"(a) users has no table-level SELECT grant"
expect_sql_ok app "SELECT count(*) FROM users;" 0 "(a) count(*) on users with column grants only"
# Also with a user but no org set: only the user's own row, never another user's.
expect_sql_ok app "SELECT set_config('app.current_user', '$A_USER', false) AS x \\gset
SELECT count(*), count(*) FILTER (WHERE id <> '$A_USER') FROM users;
SELECT count(*) FROM memberships;" "1|0
0" "(a) app.current_user alone: only self in users, nothing in memberships"

# ---- (b) the catalog --------------------------------------------------------------------------
expect_eq "" "$(psql_super "SELECT c.relname FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
	  AND NOT (c.relrowsecurity AND c.relforcerowsecurity)")" "(b) org_id tables without FORCE RLS"
n=$(psql_super "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
[ "$n" -ge 5 ] && pass || fail "(b) only $n tables with org_id found"
expect_eq "" "$(psql_super "SELECT c.relname FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations'
	  AND NOT (c.relrowsecurity AND c.relforcerowsecurity)")" "(b) tables without ENABLE + FORCE RLS"
# Every tenant table has a policy keyed on vt_current_org() (RLS with no policy would be deny-all,
# which is safe but would mean the table is not really tenant-scoped).
expect_eq "" "$(psql_super "SELECT c.relname FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT EXISTS (
		SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
		AND pg_get_expr(p.polqual, p.polrelid) LIKE '%vt_current_org()%')")" \
	"(b) org_id tables without a vt_current_org() policy"
# Policies without TO apply to PUBLIC; any other grantee must be the owner role (the definer
# policies), never the app role.
expect_eq "" "$(psql_super "SELECT p.polname FROM pg_policy p, unnest(p.polroles) r
	WHERE r <> 0 AND r <> 'vaultterm_owner'::regrole")" "(b) policies granted to other roles"
# SECURITY DEFINER functions run as the owner: each must pin search_path.
expect_eq "" "$(psql_super "SELECT p.proname FROM pg_proc p JOIN pg_namespace n
	ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.prosecdef
	AND NOT coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%'),
		false)")" "(b) SECURITY DEFINER functions without a fixed search_path"
expect_eq 0 "$(psql_super "SELECT count(*) FROM information_schema.role_table_grants
	WHERE table_schema = 'public' AND grantee = 'PUBLIC'")" "(b) table privileges granted to PUBLIC"

# ---- (c) the app role's attributes -------------------------------------------------------------
expect_eq "f|f|f|f" "$(psql_super "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
	FROM pg_roles WHERE rolname = 'vaultterm_app'")" "(c) app role attributes"
expect_eq 0 "$(psql_super "SELECT count(*) FROM pg_class
	WHERE relowner = 'vaultterm_app'::regrole")" "(c) relations owned by the app role"
expect_eq 0 "$(psql_super "SELECT (SELECT count(*) FROM pg_proc
	WHERE proowner = 'vaultterm_app'::regrole) + (SELECT count(*) FROM pg_namespace
	WHERE nspowner = 'vaultterm_app'::regrole)")" "(c) functions/schemas owned by the app role"
# Membership in another role would inherit its rights (the owner role's, for instance).
expect_eq 0 "$(psql_super "SELECT count(*) FROM pg_auth_members
	WHERE member = 'vaultterm_app'::regrole")" "(c) roles the app role is a member of"
# And as seen from the app role's own connection.
expect_sql_ok app "SELECT current_user, current_setting('is_superuser'),
	(SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user);" "vaultterm_app|off|f" \
	"(c) the app role's view of itself"

# ---- (d) org A set: only A's rows; writing B's rows fails ---------------------------------------
SET_A="SELECT set_config('app.current_org', :'a', false) AS x \\gset"
for t in audit_log memberships api_tokens invites orgs scanner_keys secret_fingerprints ssh_keys \
	ssh_profiles terminal_sessions recording_chunks; do
	want=$(psql_super "SELECT count(*) FROM $t WHERE org_id = '$A_ORG'")
	[ "$want" -gt 0 ] && pass || fail "(d) org A has no rows in $t: the check proves nothing"
	expect_sql_ok app "$SET_A
SELECT count(*), count(*) FILTER (WHERE org_id IS DISTINCT FROM :'a') FROM $t;" "$want|0" \
		"(d) app role with org A: rows of $t (A's, others)"
done
# users: the members of A (alice, carol) only.
expect_sql_ok app "$SET_A
SELECT string_agg(email, ',' ORDER BY email) FROM users;" "alice@rls.example,carol@rls.example" \
	"(d) users visible with org A"
expect_sql_err app "$SET_A
INSERT INTO memberships (org_id, user_id, org_role) VALUES (:'b', '$A_USER', 'owner');" \
	'new row violates row-level security policy for table "memberships"' \
	"(d) app role inserts a membership into org B"
expect_sql_err app "$SET_A
INSERT INTO audit_log (id, org_id, actor_type, action, outcome)
VALUES (gen_random_uuid(), :'b', 'system', 'FORGED_EVENT', 'success');" \
	'new row violates row-level security policy for table "audit_log"' \
	"(d) app role inserts an audit row into org B"
# A system row (org_id NULL) may only be written by vt_audit_append_system.
expect_sql_err app "$SET_A
INSERT INTO audit_log (id, org_id, actor_type, action, outcome)
VALUES (gen_random_uuid(), NULL, 'system', 'FORGED_EVENT', 'success');" \
	'new row violates row-level security policy for table "audit_log"' \
	"(d) app role inserts a system audit row directly"
expect_sql_err app "$SET_A
INSERT INTO secret_fingerprints (org_id, secret_id, field, anchor_sip, anchor_off, len, mac)
VALUES (:'b', '$B_SECRET', 'key', 1, 0, 12, sha256('x'));" \
	'new row violates row-level security policy for table "secret_fingerprints"' \
	"(d) app role plants a fingerprint in org B"
expect_sql_err app "$SET_A
INSERT INTO api_tokens (id, org_id, name, scopes, token_hash)
VALUES (gen_random_uuid(), :'b', 'forged', '{admin}', sha256('x'));" \
	'new row violates row-level security policy for table "api_tokens"' \
	"(d) app role inserts a token into org B"
expect_sql_err app "$SET_A
INSERT INTO ssh_profiles (id, org_id, name, host, username, credential_secret_id)
VALUES (gen_random_uuid(), :'b', 'forged', 'evil.example', 'root', '$B_SECRET');" \
	'new row violates row-level security policy for table "ssh_profiles"' \
	"(d) app role inserts a connection profile into org B"
expect_sql_err app "$SET_A
INSERT INTO ssh_keys (id, org_id, user_id, name, public_key, fingerprint)
VALUES (gen_random_uuid(), :'b', '$A_USER', 'forged',
	'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOVvPQZ1uJX4g0a4JQ6z4Qm0l5bq0nqXw0N0Yd8o1yQk',
	'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');" \
	'new row violates row-level security policy for table "ssh_keys"' \
	"(d) app role registers a login key in org B"
expect_sql_err app "$SET_A
INSERT INTO ssh_tickets (ticket_hash, org_id, user_id, profile_id, expires_at)
VALUES (sha256('forged'), :'b', '$A_USER', gen_random_uuid(), now() + interval '1 hour');" \
	'new row violates row-level security policy for table "ssh_tickets"' \
	"(d) app role issues a ticket in org B"
# B's rows cannot be touched either: they are invisible to UPDATE/DELETE, and org_id is not
# an updatable column.
before_b=$(psql_super "SELECT org_role FROM memberships WHERE org_id = '$B_ORG'")
expect_sql_ok app "$SET_A
WITH u AS (UPDATE memberships SET org_role = 'member' WHERE org_id = :'b' RETURNING 1)
SELECT count(*) FROM u;
WITH d AS (DELETE FROM memberships WHERE org_id = :'b' RETURNING 1) SELECT count(*) FROM d;" \
	"0
0" "(d) app role updates/deletes B's membership"
expect_sql_err app "$SET_A
UPDATE memberships SET org_id = :'b';" "permission denied for table memberships" \
	"(d) app role moves A's rows to org B"
expect_eq "$before_b" "$(psql_super "SELECT org_role FROM memberships WHERE org_id = '$B_ORG'")" \
	"(d) B's membership unchanged"
[ "$(psql_super "SELECT count(*) FROM audit_log WHERE action = 'FORGED_EVENT'")" = 0 ] && pass ||
	fail "(d) a forged audit row was written"

# ---- (e) audit_log is append-only ---------------------------------------------------------------
AUDIT_DIGEST="SELECT count(*) || ':' || md5(string_agg(a::text, ',' ORDER BY seq)) FROM audit_log a"
digest=$(psql_super "$AUDIT_DIGEST")
for stmt in "UPDATE audit_log SET action = 'TAMPERED'" "DELETE FROM audit_log" \
	"TRUNCATE audit_log"; do
	expect_sql_err app "$SET_A
$stmt;" "permission denied for table audit_log" "(e) app role: $stmt"
	# The superuser bypasses RLS, so the rows reach the trigger, which refuses them.
	expect_sql_err super "$stmt;" "audit_log is append-only" "(e) superuser: $stmt"
done
# The owner role is subject to FORCE RLS (no UPDATE/DELETE policy exists, so no row would match),
# and the statement-level trigger refuses the attempt outright anyway.
for stmt in "UPDATE audit_log SET action = 'TAMPERED'" "DELETE FROM audit_log" \
	"TRUNCATE audit_log"; do
	expect_sql_err owner "$SET_A
$stmt;" "audit_log is append-only" "(e) owner role: $stmt"
done
# The database, not the app, stamps time and txid.
expect_sql_err app "$SET_A
INSERT INTO audit_log (id, org_id, actor_type, action, outcome, time)
VALUES (gen_random_uuid(), '$A_ORG', 'system', 'BACKDATED', 'success', '2000-01-01');" \
	"permission denied" "(e) app role cannot set audit_log.time"
expect_eq "$digest" "$(psql_super "$AUDIT_DIGEST")" "(e) audit_log unchanged after the attempts"
# The chain's index and checkpoints are append-only too.
for t in audit_index audit_checkpoints; do
	for stmt in "UPDATE $t SET org_id = org_id" "DELETE FROM $t" "TRUNCATE $t"; do
		expect_sql_err app "$SET_A
$stmt;" "permission denied for table $t" "(e) app role: $stmt"
		expect_sql_err super "$stmt;" "$t is append-only" "(e) superuser: $stmt"
	done
done

# ---- (f) credential columns ----------------------------------------------------------------------
for q in "SELECT password_hash FROM users" "SELECT totp_secret FROM users" \
	"SELECT totp_pending FROM users" "SELECT * FROM users" "SELECT u FROM users u" \
	"SELECT count(*) FROM users WHERE password_hash LIKE '\$argon2%'" \
	"UPDATE users SET name = name WHERE password_hash IS NOT NULL" \
	"SELECT token_hash FROM api_tokens" \
	"UPDATE api_tokens SET revoked_at = revoked_at WHERE token_hash = sha256('x')" \
	"SELECT token_hash FROM invites" "SELECT count(*) FROM invites WHERE token_hash IS NOT NULL"; do
	tbl=$(grep -Eo '(FROM|UPDATE) (users|api_tokens|invites)' <<<"$q" | head -n1 | cut -d' ' -f2)
	expect_sql_err app "$SET_A
$q;" "permission denied for table $tbl" "(f) app role: $q"
done
# Control: the readable columns of the same tables work under the same context.
expect_sql_ok app "$SET_A
SELECT count(*) FROM users WHERE email LIKE '%@rls.example';
SELECT count(*) > 0 FROM api_tokens WHERE name = 'a-ci';
SELECT count(*) > 0 FROM invites WHERE email = 'dave@rls.example';" "2
t
t" "(f) readable columns still readable"

# ---- (g) a transaction-local setting does not leak -----------------------------------------------
a_members=$(psql_super "SELECT count(*) FROM memberships WHERE org_id = '$A_ORG'")
expect_sql_ok app "SELECT coalesce(current_setting('app.current_org', true), '<unset>');
BEGIN;
SELECT set_config('app.current_org', :'a', true) AS x \\gset
SELECT count(*) FROM memberships;
COMMIT;
SELECT count(*) FROM memberships;
BEGIN;
SELECT set_config('app.current_org', :'a', true) AS x \\gset
SELECT set_config('app.current_user', '$A_USER', true) AS x \\gset
SELECT count(*) FROM users;
ROLLBACK;
SELECT count(*) FROM users;
SELECT count(*) FROM audit_log;" "<unset>
$a_members
0
2
0
0" "(g) set_config(.., true): visible inside its transaction only"

# ---- (h) the empty-string GUC ---------------------------------------------------------------------
# Once a custom GUC has been set in a session it never goes back to unset: after the transaction
# it reads as ''. vt_current_org() maps '' to NULL, so every table shows zero rows, no error.
expect_sql_ok app "BEGIN;
SELECT set_config('app.current_org', :'a', true) AS x \\gset
COMMIT;
SELECT current_setting('app.current_org', true) = '', vt_current_org() IS NULL;
SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM memberships)
	+ (SELECT count(*) FROM api_tokens) + (SELECT count(*) FROM invites)
	+ (SELECT count(*) FROM orgs) + (SELECT count(*) FROM users);
SELECT set_config('app.current_org', '', false) AS x \\gset
SELECT count(*) FROM audit_log;" "t|t
0
0" "(h) empty GUC: zero rows, no error"
# A malformed value fails closed with an error, never with rows.
expect_sql_err app "SELECT set_config('app.current_org', 'not-a-uuid', false) AS x \\gset
SELECT count(*) FROM memberships;" "invalid input syntax for type uuid" \
	"(h) malformed GUC is an error"

finish
