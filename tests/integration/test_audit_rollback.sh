#!/usr/bin/env bash
# The production halt on an audit rollback (docs/license-counter.md, docs/audit.md §7):
#  - a dev server (AUDIT_SEQUENCER=off) hosts the embedded cluster; a second server runs WITHOUT
#    --dev, APP_ENV=production, on DATABASE_URL with its own LICENSE_STATE_PATH, and is the
#    sequencer's leader;
#  - after activity is sealed, a superuser deletes the newest checkpoints of an org and rewinds
#    its audit_log_state (the database now lost checkpoints the license file committed):
#    within seconds /health says "rollback_detected" (503 in production), every /api request
#    answers 503, AUDIT_ROLLBACK_DETECTED is recorded (system row + one per org with a chain),
#    and the development server keeps serving;
#  - a forged acknowledgement (ack_at + 32 random bytes as ack_mac, written as the superuser)
#    does not clear the halt, nor does ack-rollback with another master key;
#  - `vaultterm operator ack-rollback --note ...` (DATABASE_URL + DEV_MASTER_KEY, no --dev)
#    records AUDIT_ROLLBACK_ACKNOWLEDGED, and within seconds the API serves again, the counter is
#    re-anchored (never reusing a value handed out before) and the chain is sealed again;
#  - a production server that boots on a database that lost checkpoints while it was down refuses
#    its very first request (the leader's rollback check runs before it serves).
. "$(dirname "$0")/lib.sh"

PROD_PID=""
PROD_ADDR=""
PROD_DIR=$VT_TMP/prod
PROD_LOG=$PROD_DIR/server.log
mkdir -m 0700 "$PROD_DIR"

prod_stop() {
	if [ -n "$PROD_PID" ] && kill -0 "$PROD_PID" 2>/dev/null; then
		kill -TERM "$PROD_PID" 2>/dev/null || true
		for _ in $(seq 1 300); do
			kill -0 "$PROD_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$PROD_PID" 2>/dev/null; then
			fail "the production server did not stop on SIGTERM; killing it"
			kill -KILL "$PROD_PID" 2>/dev/null || true
		fi
		wait "$PROD_PID" 2>/dev/null || true
	fi
	PROD_PID=""
}
# The production server goes before lib.sh's cleanup stops the cluster under it.
rollback_cleanup() {
	local rc=$?
	set +e
	prod_stop
	if [ "$rc" -ne 0 ] || [ "$VT_FAILS" -ne 0 ]; then
		echo "---- production server log (last 40 lines) ----" >&2
		tail -n 40 "$PROD_LOG" >&2 2>/dev/null
	fi
	(exit "$rc")
	vt_cleanup # reads the test's exit status from $?
}
trap rollback_cleanup EXIT

# The cluster host: a development server that never sequences.
vt_start AUDIT_SEQUENCER=off
DEV_ADDR=$VT_ADDR

APP_URL="host='$VT_DATA/run' dbname=vaultterm user=vaultterm_app password='$(vt_secret PG_APP_PASSWORD)' connect_timeout=10"
MASTER_KEY=$(vt_secret DEV_MASTER_KEY)
JWT=$(head -c 30 /dev/urandom | base64 | tr '+/' '-_')
PROD_ENV=(APP_ENV=production DATABASE_URL="$APP_URL" DEV_MASTER_KEY="$MASTER_KEY" JWT_SECRET="$JWT"
	LICENSE_STATE_PATH="$PROD_DIR/license-state" PORT=0 AUTH_RATE_MAX=100000
	AUDIT_CHECKPOINT_INTERVAL_MS=300 AUDIT_CHECKPOINT_ROWS=20 AUDIT_VERIFY_INTERVAL_MS=300)

# prod_start: the production server, no --dev, its own config only; returns as soon as it listens
# (polling its log every 20 ms) and points api() and the CLI at it.
prod_start() {
	local port=""
	: >"$PROD_LOG"
	env "${PROD_ENV[@]}" "$VAULTTERM_BIN" server >>"$PROD_LOG" 2>&1 &
	PROD_PID=$!
	for _ in $(seq 1 3000); do
		port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$PROD_LOG" 2>/dev/null | tail -n1 |
			sed 's/.*://') || true
		[ -n "$port" ] && break
		kill -0 "$PROD_PID" 2>/dev/null || { cat "$PROD_LOG" >&2; PROD_PID=""; exit 1; }
		sleep 0.02
	done
	[ -n "$port" ] || { echo "production server did not start in 60 s" >&2; exit 1; }
	PROD_ADDR=http://127.0.0.1:$port
	VT_ADDR=$PROD_ADDR
	export VAULTTERM_ADDR=$PROD_ADDR
}
prod_start
grep -q 'development mode' "$PROD_LOG" && fail "the second server runs in development mode" || pass

# prod_health / dev_health: sets HSTATUS and HAUDIT.
health_of() {
	HSTATUS=$(curl -s -o "$VT_TMP/health" -w '%{http_code}' --max-time 10 "$1/health") || HSTATUS=000
	HAUDIT=$(jq -r .audit "$VT_TMP/health" 2>/dev/null || true)
}
# wait_health ADDR AUDIT: polls /health of ADDR until "audit" is AUDIT (10 s).
wait_health() {
	for _ in $(seq 1 100); do
		health_of "$1"
		[ "$HAUDIT" = "$2" ] && return 0
		sleep 0.1
	done
	return 0
}

wait_health "$PROD_ADDR" sequencing
expect_eq "200 sequencing" "$HSTATUS $HAUDIT" "the production server is the sequencer's leader"
health_of "$DEV_ADDR"
expect_eq "200 standby" "$HSTATUS $HAUDIT" "the development server (AUDIT_SEQUENCER=off) stands by"
[ -f "$PROD_DIR/license-state" ] && pass || fail "the leader created LICENSE_STATE_PATH"

PW='correct horse battery staple'
reg() {
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$PW" '{email:$e,password:$p}')"
	expect_status 201 "register $1"
	REG_TOKEN=$(jq -r .token <<<"$BODY")
	REG_ORG=$(jq -r .org.id <<<"$BODY")
}
# tokens BEARER N: N audit rows.
tokens() {
	local i
	for ((i = 0; i < $2; i++)); do
		api POST /api/tokens "{\"name\":\"t$i\",\"scopes\":[\"audit:read\"]}" "$1"
		[ "$STATUS" = 201 ] || { expect_status 201 "create token $i"; return 0; }
	done
	pass
}
# wait_sealed ORG: every committed row of the org is indexed and sealed.
wait_sealed() {
	local ok=""
	for _ in $(seq 1 100); do
		ok=$(psql_super "SELECT s.size = s.checkpoint_size AND s.size =
			(SELECT count(*) FROM audit_log l WHERE l.org_id = s.org_id)
			FROM audit_log_state s WHERE s.org_id = '$1'")
		[ "$ok" = t ] && break
		sleep 0.1
	done
	expect_eq t "$ok" "org $1: every row is sequenced and sealed"
}
committed() { sed -n 2p "$PROD_DIR/license-state" | cut -d' ' -f2; }
reserved() { sed -n 3p "$PROD_DIR/license-state" | cut -d' ' -f2; }

# ---- activity, sealed by the production leader -----------------------------------------------------
reg bob@rollback.example
B_TOKEN=$REG_TOKEN B_ORG=$REG_ORG
tokens "$B_TOKEN" 10
wait_sealed "$B_ORG"
reg alice@rollback.example
A_TOKEN=$REG_TOKEN A_ORG=$REG_ORG
for round in 1 2 3; do
	tokens "$A_TOKEN" 15
	wait_sealed "$A_ORG"
done
NCP=$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$A_ORG'")
[ "$NCP" -ge 3 ] && pass || fail "alice's org needs at least 3 checkpoints, has $NCP"
MAX_BEFORE=$(psql_super "SELECT max(counter) FROM audit_checkpoints")
for _ in $(seq 1 30); do [ "$(committed)" = "$MAX_BEFORE" ] && break; sleep 0.1; done
expect_eq "$MAX_BEFORE" "$(committed)" "the license file committed the newest counter"
api GET /api/auth/me "" "$A_TOKEN"
expect_status 200 "the production API serves"

# ---- the rollback: the newest two checkpoints of alice's org disappear ----------------------------
KEEP=$(psql_super "SELECT size FROM audit_checkpoints WHERE org_id = '$A_ORG' ORDER BY size DESC
	OFFSET 2 LIMIT 1")
psql_as postgres "$(vt_secret PG_SUPERUSER_PASSWORD)" -f - >/dev/null <<SQL
SET session_replication_role = replica;
BEGIN;
DO \$\$ BEGIN
	IF (SELECT max(counter) FROM audit_checkpoints WHERE org_id = '$A_ORG') <>
		(SELECT max(counter) FROM audit_checkpoints) THEN
		RAISE EXCEPTION 'alice''s org does not hold the newest counter';
	END IF;
END \$\$;
DELETE FROM audit_checkpoints WHERE org_id = '$A_ORG' AND size > $KEEP;
UPDATE audit_log_state s SET checkpoint_size = c.size, checkpoint_hash = c.text_hash,
	checkpoint_counter = c.counter, unsealed_since = clock_timestamp()
	FROM audit_checkpoints c WHERE s.org_id = '$A_ORG' AND c.org_id = s.org_id AND c.size = $KEEP;
COMMIT;
SQL
DB_MAX=$(psql_super "SELECT max(counter) FROM audit_checkpoints")
[ "$DB_MAX" -lt "$MAX_BEFORE" ] && pass ||
	fail "the database's newest counter did not go back ($DB_MAX vs $MAX_BEFORE)"

wait_health "$PROD_ADDR" rollback_detected
expect_eq "503 rollback_detected" "$HSTATUS $HAUDIT" "production /health: rollback detected, 503"
expect_eq degraded "$(jq -r .status "$VT_TMP/health")" "production /health status degraded"
for req in "GET /api/auth/me" "GET /api/audit" "GET /api/audit/checkpoints/latest" \
	"GET /api/vault/vaults" "POST /api/tokens"; do
	body=""
	[ "${req%% *}" = POST ] && body='{"name":"x","scopes":["audit:read"]}'
	api ${req%% *} "${req#* }" "$body" "$A_TOKEN"
	expect_status 503 "halted production: $req"
	expect_code unavailable "halted production: $req"
done
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"alice@rollback.example",password:$p}')"
expect_status 503 "halted production: login"
api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"new@rollback.example",password:$p}')"
expect_status 503 "halted production: register"
grep -q 'ack-rollback' <<<"$BODY" && pass || fail "the 503 does not say how to resume: $BODY"
api GET /api/auth/me
expect_status 503 "halted production: even unauthenticated requests"

expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id IS NULL
	AND action = 'AUDIT_ROLLBACK_DETECTED'")" "one system AUDIT_ROLLBACK_DETECTED row"
expect_eq "$MAX_BEFORE|$DB_MAX" "$(psql_super "SELECT (detail::jsonb ->> 'license_counter') || '|' ||
	(detail::jsonb ->> 'database_counter') FROM audit_log WHERE org_id IS NULL
	AND action = 'AUDIT_ROLLBACK_DETECTED'")" "the event names the file's and the database's counters"
for org in "$A_ORG" "$B_ORG"; do
	expect_eq "1|system|failure" "$(psql_super "SELECT count(*) || '|' || min(actor_type) || '|' ||
		min(outcome) FROM audit_log WHERE org_id = '$org' AND action = 'AUDIT_ROLLBACK_DETECTED'")" \
		"org $org: one AUDIT_ROLLBACK_DETECTED row"
done
grep -q 'AUDIT_ROLLBACK_DETECTED' "$PROD_LOG" && pass || fail "the server does not log the rollback"
# The development server sees the halt too, but keeps serving.
wait_health "$DEV_ADDR" rollback_detected
expect_eq "200 rollback_detected" "$HSTATUS $HAUDIT" "development /health: rollback detected, 200"
VT_ADDR=$DEV_ADDR api GET /api/auth/me
expect_status 401 "development server: the API still answers (401 without a token)"

# ---- a forged acknowledgement does not clear the halt ------------------------------------------------
psql_super "UPDATE audit_sequencer SET ack_at = now(),
	ack_mac = decode('$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')', 'hex')" >/dev/null
expect_eq "t|32" "$(psql_super "SELECT ack_at IS NOT NULL, length(ack_mac) FROM audit_sequencer" |
	tr -d ' ')" "the forged acknowledgement is stored"
sleep 2.5 # more than two halt polls of the leader
health_of "$PROD_ADDR"
expect_eq "503 rollback_detected" "$HSTATUS $HAUDIT" "a forged acknowledgement does not clear the halt"
api GET /api/auth/me "" "$A_TOKEN"
expect_status 503 "still halted after the forged acknowledgement"
expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_sequencer WHERE halt_reason IS NOT NULL")" \
	"the halt stays in the database"
grep -q 'acknowledgement does not verify' "$PROD_LOG" && pass ||
	fail "the leader does not log the unverifiable acknowledgement"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action = 'AUDIT_ROLLBACK_ACKNOWLEDGED'")" \
	"no acknowledgement event yet"

# ack-rollback with another master key is refused outright.
if env DATABASE_URL="$APP_URL" DEV_MASTER_KEY="$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')" \
	"$VAULTTERM_BIN" operator ack-rollback --note "wrong key" >"$VT_TMP/ack.out" 2>&1; then
	fail "ack-rollback with another master key succeeded: $(cat "$VT_TMP/ack.out")"
else
	pass
fi
sleep 1.2
health_of "$PROD_ADDR"
expect_eq "503 rollback_detected" "$HSTATUS $HAUDIT" "still halted after a refused ack-rollback"

# ---- the operator acknowledges -----------------------------------------------------------------------
if env DATABASE_URL="$APP_URL" DEV_MASTER_KEY="$MASTER_KEY" "$VAULTTERM_BIN" operator ack-rollback \
	--note "restored from backup" >"$VT_TMP/ack.out" 2>&1; then pass; else
	fail "ack-rollback failed: $(cat "$VT_TMP/ack.out")"
fi
grep -q '^acknowledged: ' "$VT_TMP/ack.out" && pass || fail "ack-rollback output: $(cat "$VT_TMP/ack.out")"
expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id IS NULL
	AND action = 'AUDIT_ROLLBACK_ACKNOWLEDGED' AND detail::jsonb ->> 'note' = 'restored from backup'")" \
	"a system AUDIT_ROLLBACK_ACKNOWLEDGED row with the operator's note"
for org in "$A_ORG" "$B_ORG"; do
	expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$org'
		AND action = 'AUDIT_ROLLBACK_ACKNOWLEDGED'")" "org $org: one AUDIT_ROLLBACK_ACKNOWLEDGED row"
done
wait_health "$PROD_ADDR" sequencing
expect_eq "200 sequencing" "$HSTATUS $HAUDIT" "production serves again after the acknowledgement"
api GET /api/auth/me "" "$A_TOKEN"
expect_status 200 "the API answers again"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_sequencer WHERE halt_reason IS NOT NULL")" \
	"the halt is cleared"
grep -q 'serving resumes' "$PROD_LOG" && pass || fail "the leader does not log the resumption"
wait_health "$DEV_ADDR" standby
expect_eq "200 standby" "$HSTATUS $HAUDIT" "the development server sees the halt cleared"

# The counter is re-anchored on the database, keeping what was reserved before.
grep -q "license counter is re-anchored at $DB_MAX " "$PROD_LOG" && pass ||
	fail "the leader does not re-anchor the counter at the database's $DB_MAX"
[ "$(reserved)" -ge "$MAX_BEFORE" ] && pass ||
	fail "the re-anchored file forgot values handed out before ($(reserved) < $MAX_BEFORE)"

# The chain is sealed again, with counters above every value handed out before the rollback.
tokens "$A_TOKEN" 3
wait_sealed "$A_ORG"
wait_sealed "$B_ORG"
for _ in $(seq 1 30); do
	[ "$(committed)" = "$(psql_super "SELECT max(counter) FROM audit_checkpoints")" ] && break
	sleep 0.1
done
expect_eq "$(psql_super "SELECT max(counter) FROM audit_checkpoints")" "$(committed)" \
	"the license file commits the new checkpoints' counter"
NEW_MIN=$(psql_super "SELECT min(counter) FROM audit_checkpoints WHERE org_id = '$A_ORG'
	AND size > $KEEP")
[ -n "$NEW_MIN" ] && [ "$NEW_MIN" -gt "$MAX_BEFORE" ] && pass ||
	fail "new checkpoints reuse counter values handed out before the rollback ($NEW_MIN <= $MAX_BEFORE)"
VAULTTERM_TOKEN=$A_TOKEN vt audit export -o "$VT_TMP/a.bundle"
api GET /api/audit/public-key "" "$A_TOKEN"
A_PK=$(jq -r .public_key <<<"$BODY")
out=$(vt audit verify "$VT_TMP/a.bundle" --public-key "$A_PK" 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] && grep -q '^OK ' <<<"$out" && pass ||
	fail "the chain sealed after the acknowledgement does not verify: $out"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action = 'AUDIT_TAMPER_DETECTED'")" \
	"the re-sealed chain raises no tamper finding"

# Nothing is pending now.
if env DATABASE_URL="$APP_URL" DEV_MASTER_KEY="$MASTER_KEY" "$VAULTTERM_BIN" operator ack-rollback \
	--note "again" >"$VT_TMP/ack.out" 2>&1; then pass; else
	fail "ack-rollback with nothing pending must succeed: $(cat "$VT_TMP/ack.out")"
fi
grep -q 'nothing to acknowledge' "$VT_TMP/ack.out" && pass ||
	fail "ack-rollback with nothing pending: $(cat "$VT_TMP/ack.out")"

# Alice's org alone gets the newest checkpoint (for the reboot below).
tokens "$A_TOKEN" 2
wait_sealed "$A_ORG"
prod_stop
grep -q 'received SIGTERM' "$PROD_LOG" && pass || fail "production server did not stop cleanly"

# ---- a production server booting on a rolled-back database never answers from it -------------------
# The leader checks the counter before it serves (sequencer_start); the very first request after
# "listening" must already be refused. The database loses alice's newest checkpoint while no
# server sequences.
VT_ADDR=$DEV_ADDR # (the production server is stopped)
psql_as postgres "$(vt_secret PG_SUPERUSER_PASSWORD)" -f - >/dev/null <<SQL
SET session_replication_role = replica;
BEGIN;
DO \$\$ BEGIN
	IF (SELECT max(counter) FROM audit_checkpoints WHERE org_id = '$A_ORG') <=
		(SELECT coalesce(max(counter), 0) FROM audit_checkpoints WHERE org_id <> '$A_ORG') THEN
		RAISE EXCEPTION 'alice''s org does not hold the newest counter alone';
	END IF;
END \$\$;
UPDATE audit_log_state s SET checkpoint_size = c.size, checkpoint_hash = c.text_hash,
	checkpoint_counter = c.counter, unsealed_since = clock_timestamp()
	FROM audit_checkpoints c WHERE s.org_id = '$A_ORG' AND c.org_id = s.org_id
	AND c.size = (SELECT size FROM audit_checkpoints WHERE org_id = '$A_ORG' ORDER BY size DESC
		OFFSET 1 LIMIT 1);
DELETE FROM audit_checkpoints WHERE org_id = '$A_ORG' AND size = (SELECT max(size)
	FROM audit_checkpoints WHERE org_id = '$A_ORG');
COMMIT;
SQL
[ "$(psql_super "SELECT max(counter) FROM audit_checkpoints")" -lt "$(committed)" ] && pass ||
	fail "the database's counter is not behind the license file before the reboot"
prod_start
api GET /api/auth/me "" "$A_TOKEN"
expect_status 503 "the first request to a production server booted on a rolled-back database"
health_of "$PROD_ADDR"
expect_eq "503 rollback_detected" "$HSTATUS $HAUDIT" "its first /health"
wait_health "$PROD_ADDR" rollback_detected
expect_eq "503 rollback_detected" "$HSTATUS $HAUDIT" "the rebooted server is halted"
api GET /api/auth/me "" "$A_TOKEN"
expect_status 503 "the rebooted server refuses requests"
finish
