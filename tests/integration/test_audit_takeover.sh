#!/usr/bin/env bash
# Sequencer fail-over between two servers on one database.
#  - H: a --dev server with AUDIT_SEQUENCER=off hosts the embedded cluster and serves the API,
#    but never sequences (its /health says "standby" throughout);
#  - S1 and S2: servers WITHOUT --dev on the same cluster (DATABASE_URL = the app role's conninfo,
#    the dev master key and JWT secret), sharing one LICENSE_STATE_PATH in a temp dir (its flock
#    allows one writer at a time).
# Exactly one of S1/S2 reports "sequencing" and the other "standby", pg_locks shows exactly one
# holder of the leader's advisory lock, and the license file's lock is held. After activity
# through all three servers, the leader is killed with SIGKILL while a writer keeps revealing
# through H (no clean shutdown: its lock goes with its database session and its flock with the
# process); the other takes over within a few seconds and sequences and seals what follows.
# Then the organization's log holds exactly the rows the clients were answered for; its chain
# (rows written before, during and after the takeover) verifies offline (`vaultterm audit export`
# through the new leader, `vaultterm audit verify`); its indexes have no gap or duplicate;
# checkpoint counters strictly increase and link; both leaders sealed checkpoints; no rollback or
# tamper was reported (a takeover is not a rollback); the license file's committed counter is the
# database's newest. Finally the dead server is restarted as a standby and the leader's database
# session is reset (pg_terminate_backend, the process lives on) until the standby wins the lock:
# exactly one server must sequence again within seconds, and new rows must be sealed; both
# servers then stop cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

TAKEOVER_TIMEOUT=10 # seconds for the standby to report "sequencing" after the kill
SEAL_TIMEOUT=20

S_PID=("" "") S_LOG=("$VT_TMP/s1.log" "$VT_TMP/s2.log") S_ADDR=("" "")
BG_PID=""
LIC_DIR="$VT_TMP/license"
LICENSE_STATE_PATH="$LIC_DIR/license-state"

# Every process this test started goes, whatever happens: S1/S2 here, H and the cluster in
# vt_cleanup (lib.sh). Logs of S1/S2 on failure.
takeover_cleanup() {
	local rc=$? k
	if [ -n "$BG_PID" ]; then
		kill "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	for k in 0 1; do
		if [ -n "${S_PID[$k]}" ] && kill -0 "${S_PID[$k]}" 2>/dev/null; then
			kill -KILL "${S_PID[$k]}" 2>/dev/null || true
			wait "${S_PID[$k]}" 2>/dev/null || true
		fi
		if [ "$rc" -ne 0 ] || [ "$VT_FAILS" -ne 0 ]; then
			echo "---- S$((k + 1)) log (last 30 lines) ----" >&2
			tail -n 30 "${S_LOG[$k]}" >&2 2>/dev/null || true
		fi
	done
	# vt_cleanup reads the test's status from $?: hand it over without tripping `set -e`.
	set +e
	(exit "$rc")
	vt_cleanup
}
trap takeover_cleanup EXIT

# ---- H: the cluster host, never a sequencer --------------------------------------------------------
vt_start AUDIT_SEQUENCER=off
H_ADDR=$VT_ADDR
api GET /health
expect_jq '.audit == "standby"' "H (AUDIT_SEQUENCER=off) is standby"

# conninfo value quoting ('...' with \ and ' escaped), as src/db/cluster.c make_conninfo does
cq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\\\']/\\\\&/g")"; }
DATABASE_URL="host=$(cq "$VT_DATA/run") dbname=vaultterm user=vaultterm_app password=$(cq "$(vt_secret PG_APP_PASSWORD)") connect_timeout=10"
mkdir -m 0700 "$LIC_DIR"

# s_start K: starts S(K+1) without --dev and waits until it serves.
s_start() {
	local k=$1 port=""
	: >"${S_LOG[$k]}"
	env PORT=0 AUTH_RATE_MAX=100000 LOG_LEVEL=info DATABASE_URL="$DATABASE_URL" \
		DEV_MASTER_KEY="$(vt_secret DEV_MASTER_KEY)" JWT_SECRET="$(vt_secret JWT_SECRET)" \
		LICENSE_STATE_PATH="$LICENSE_STATE_PATH" \
		"$VAULTTERM_BIN" server >>"${S_LOG[$k]}" 2>&1 &
	S_PID[$k]=$!
	for _ in $(seq 1 600); do
		port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "${S_LOG[$k]}" 2>/dev/null |
			tail -n1 | sed 's/.*://') || true
		[ -n "$port" ] && break
		kill -0 "${S_PID[$k]}" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$port" ]; then
		echo "S$((k + 1)) did not start" >&2
		cat "${S_LOG[$k]}" >&2
		exit 1
	fi
	S_ADDR[$k]="http://127.0.0.1:$port"
}

# audit_state ADDR: the "audit" field of ADDR's /health ("down" when it does not answer).
audit_state() { curl -s --max-time 5 "$1/health" | jq -r '.audit // "down"' 2>/dev/null || echo down; }

# lock_holders: backends holding the leader's advisory lock (pid per line).
lock_holders() {
	psql_super "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 1448362325
		AND objid = 1 AND objsubid = 2 AND granted ORDER BY pid"
}

# license_locked: whether some process holds the flock on the shared license file's lock.
license_locked() { ! flock -n "$LICENSE_STATE_PATH.lock" true 2>/dev/null; }

s_start 0
s_start 1
# One of the two takes the lock (at boot, or within its 500 ms retry); the other stays standby.
for _ in $(seq 1 50); do
	st="$(audit_state "${S_ADDR[0]}") $(audit_state "${S_ADDR[1]}")"
	case $st in "sequencing standby" | "standby sequencing") break ;; esac
	sleep 0.2
done
case $st in
"sequencing standby") L=0 ;;
"standby sequencing") L=1 ;;
*) L="" ;;
esac
if [ -n "$L" ]; then pass; else fail "S1/S2 audit states: expected one sequencing, one standby, got '$st'"; fi
L=${L:-0}
F=$((1 - L))
echo "leader: S$((L + 1)) (pid ${S_PID[$L]}); standby: S$((F + 1))" >&2
expect_eq standby "$(audit_state "$H_ADDR")" "H stays standby"
HOLDERS=$(lock_holders)
expect_eq 1 "$(grep -c . <<<"$HOLDERS")" "pg_locks: exactly one holder of the sequencer lock"
OLD_HOLDER=$HOLDERS
license_locked && pass || fail "the leader does not hold the flock on $LICENSE_STATE_PATH.lock"
# The holder is a session of the app role (a server's), not some other client's.
expect_eq 1 "$(psql_super "SELECT count(*) FROM pg_stat_activity WHERE pid = '${HOLDERS:-0}'
	AND usename = 'vaultterm_app'")" "the lock holder is an app-role session"

# ---- activity before the takeover, through all three servers ----------------------------------------
VT_ADDR=$H_ADDR
reg owner@takeover.example
JWT=$REG_TOKEN
ORG=$REG_ORG
mkvault "$JWT" takeover
mksecret "$JWT" "$VAULT_ID" '{"type":"PASSWORD","name":"t","fields":{"password":"p"}}'
SECRET=$SECRET_ID
SETUP_ROWS=$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG'")

# activity ROUNDS: per round, one token create + revoke and one reveal through each server.
ACTIONS=0
activity() {
	local r a id
	for r in $(seq 1 "$1"); do
		for a in "$H_ADDR" "${S_ADDR[@]}"; do
			[ "$a" = "${S_ADDR[$L]}" ] && [ -n "${KILLED:-}" ] && continue
			VT_ADDR=$a
			api POST /api/tokens "{\"name\":\"t$r\",\"scopes\":[\"vault:read\"]}" "$JWT"
			expect_status 201 "token create via $a"
			id=$(jq -r .id <<<"$BODY")
			api DELETE "/api/tokens/$id" "" "$JWT"
			expect_status 204 "token revoke via $a"
			api POST "/api/vault/secrets/$SECRET/reveal" '{"reason":"takeover"}' "$JWT"
			expect_status 200 "reveal via $a"
			ACTIONS=$((ACTIONS + 3))
		done
	done
	VT_ADDR=$H_ADDR
}

# sealed: the org's log holds every one of its rows and the newest checkpoint covers them all.
sealed() {
	[ "$(psql_super "SELECT count(*) FROM audit_log_state s WHERE s.org_id = '$ORG'
		AND s.size = s.checkpoint_size
		AND s.size = (SELECT count(*) FROM audit_log WHERE org_id = '$ORG')")" = 1 ]
}
wait_sealed() {
	local _
	for _ in $(seq 1 $((SEAL_TIMEOUT * 5))); do
		sealed && return 0
		sleep 0.2
	done
	return 1
}

activity 10
# Part of the log is sealed by the first leader before it dies, part is left for the second.
if wait_sealed; then pass; else fail "not sealed by the first leader in $SEAL_TIMEOUT s"; fi
SIZE_BEFORE=$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$ORG'")
activity 3 # rows the dead leader may not have sequenced or sealed yet

# A writer through H that keeps going across the kill and the takeover: rows commit while the
# leader dies in whatever it was doing, and while nobody sequences.
bg_writer() {
	local st
	while [ ! -e "$VT_TMP/bg.stop" ]; do
		st=$(curl -s -o "$VT_TMP/bg.out" -w '%{http_code}' --max-time 60 -X POST \
			-H "Authorization: Bearer $JWT" -H 'Content-Type: application/json' \
			--data-binary '{"reason":"across the takeover"}' \
			"$H_ADDR/api/vault/secrets/$SECRET/reveal") || st=000
		if [ "$st" = 200 ]; then echo ok >>"$VT_TMP/bg.ok"; else echo "$st $(cat "$VT_TMP/bg.out")" >>"$VT_TMP/bg.err"; fi
	done
}
: >"$VT_TMP/bg.ok"
: >"$VT_TMP/bg.err"
bg_writer &
BG_PID=$!
sleep 1

# ---- kill -9 the leader -------------------------------------------------------------------------------
KILL_AT=$(psql_super "SELECT clock_timestamp()")
kill -KILL "${S_PID[$L]}"
{ wait "${S_PID[$L]}"; } 2>/dev/null || true # (no "Killed" notice from the shell)
S_PID[$L]=""
KILLED=1
T0=$(date +%s.%N)
took=""
for _ in $(seq 1 $((TAKEOVER_TIMEOUT * 10))); do
	if [ "$(audit_state "${S_ADDR[$F]}")" = sequencing ]; then
		took=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
		break
	fi
	sleep 0.1
done
if [ -n "$took" ]; then
	pass
	echo "takeover: S$((F + 1)) reports sequencing $took s after S$((L + 1)) was killed" >&2
else
	fail "S$((F + 1)) did not report sequencing within $TAKEOVER_TIMEOUT s of the leader's death (it says '$(audit_state "${S_ADDR[$F]}")')"
fi
HOLDERS=$(lock_holders)
expect_eq 1 "$(grep -c . <<<"$HOLDERS")" "after the takeover: exactly one lock holder"
license_locked && pass || fail "the new leader does not hold the flock on $LICENSE_STATE_PATH.lock"
[ "$HOLDERS" != "$OLD_HOLDER" ] && pass || fail "the lock holder is still the dead leader's session ($HOLDERS)"
expect_eq standby "$(audit_state "$H_ADDR")" "H is still standby"

# ---- activity after the takeover ----------------------------------------------------------------------
activity 10
touch "$VT_TMP/bg.stop"
wait "$BG_PID" || true
BG_PID=""
BG=$(wc -l <"$VT_TMP/bg.ok")
expect_eq "" "$(head -n 3 "$VT_TMP/bg.err")" "the writer across the takeover: every reveal answered 200"
[ "$BG" -gt 0 ] && pass || fail "the writer across the takeover landed nothing"
ACTIONS=$((ACTIONS + BG))
if wait_sealed; then pass; else
	fail "not sealed $SEAL_TIMEOUT s after the takeover: $(psql_super "SELECT size, checkpoint_size
		FROM audit_log_state WHERE org_id = '$ORG'")"
fi

# ---- the chain across the takeover --------------------------------------------------------------------
N=$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG'")
M=$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$ORG'")
echo "org log: $N rows ($SETUP_ROWS of the set-up, $ACTIONS audited actions answered with success, $BG of them across the takeover), $M checkpoints; $SIZE_BEFORE rows sealed before the kill" >&2
expect_eq "$((SETUP_ROWS + ACTIONS))" "$N" "rows in the log = set-up rows + audited actions answered with success"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log l WHERE l.org_id = '$ORG'
	AND (SELECT count(*) FROM audit_index i WHERE i.audit_id = l.id AND i.org_id = l.org_id) <> 1")" \
	"every audit row is in audit_index exactly once"
expect_eq "$N|0|$((N - 1))|$N" "$(psql_super "SELECT count(*), min(idx), max(idx), count(DISTINCT idx)
	FROM audit_index WHERE org_id = '$ORG'")" "indexes are 0..$((N - 1)) across the takeover: no gap, no duplicate"
expect_eq 0 "$(psql_super "SELECT count(*) FROM (SELECT l.txid, l.seq, lag(l.txid) OVER w AS pt,
	lag(l.seq) OVER w AS ps FROM audit_index i JOIN audit_log l ON l.id = i.audit_id
	WHERE i.org_id = '$ORG' WINDOW w AS (ORDER BY i.idx)) t
	WHERE pt IS NOT NULL AND (txid, seq) <= (pt, ps)")" "index order is (txid, seq) order"
expect_eq "$M|$N|0|0|0" "$(psql_super "WITH c AS (SELECT size, counter, prev_hash, text_hash,
		lag(size, 1, 0::bigint) OVER w AS psize, lag(counter) OVER w AS pcounter,
		lag(text_hash) OVER w AS phash, row_number() OVER w AS rn
		FROM audit_checkpoints WHERE org_id = '$ORG' WINDOW w AS (ORDER BY counter))
	SELECT count(*), coalesce(max(size), 0), count(*) FILTER (WHERE size <= psize),
		count(*) FILTER (WHERE rn > 1 AND counter <= pcounter),
		count(*) FILTER (WHERE (rn = 1 AND prev_hash IS NOT NULL)
			OR (rn > 1 AND prev_hash IS DISTINCT FROM phash))
	FROM c")" "checkpoints (count|last size|size not growing|counter not growing|broken link)"
expect_eq 0 "$(psql_super "SELECT count(*) FROM (SELECT lag(counter) OVER (ORDER BY size) AS pc,
	counter FROM audit_checkpoints WHERE org_id = '$ORG') t WHERE counter <= pc")" \
	"counters strictly increase with the size"
expect_eq 0 "$(psql_super "WITH c AS (SELECT size, lag(size, 1, 0::bigint) OVER (ORDER BY size)
		AS psize FROM audit_checkpoints WHERE org_id = '$ORG')
	SELECT count(*) FROM audit_index i WHERE i.org_id = '$ORG'
	AND (SELECT count(*) FROM c WHERE i.idx >= c.psize AND i.idx < c.size) <> 1")" \
	"every row is in exactly one checkpointed range"
expect_eq "t|t" "$(psql_super "SELECT count(*) FILTER (WHERE created_at < '$KILL_AT') > 0,
	count(*) FILTER (WHERE created_at > '$KILL_AT') > 0 FROM audit_checkpoints WHERE org_id = '$ORG'")" \
	"checkpoints were sealed both before and after the takeover"

# export (through the new leader) + offline verification
VT_ADDR=${S_ADDR[$F]}
api GET /api/audit/public-key "" "$JWT"
expect_status 200 "public key"
KEY=$(jq -r .public_key <<<"$BODY")
rc=0
out=$(VAULTTERM_ADDR=$VT_ADDR VAULTTERM_TOKEN=$JWT vt audit export -o "$VT_TMP/export" 2>&1) || rc=$?
expect_eq 0 "$rc" "vaultterm audit export via S$((F + 1)) ($out)"
rc=0
out=$(vt audit verify "$VT_TMP/export" --public-key "$KEY" 2>&1) || rc=$?
expect_eq 0 "$rc" "vaultterm audit verify exits 0 ($out)"
if grep -Eq "^OK $N rows, $M checkpoints" <<<"$out"; then pass; else
	fail "verify should say 'OK $N rows, $M checkpoints...', said: $out"
fi
VT_ADDR=$H_ADDR

# No false alarm: a takeover is neither a rollback nor a tamper.
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action IN
	('AUDIT_TAMPER_DETECTED', 'AUDIT_ROLLBACK_DETECTED')")" "no tamper or rollback event"
expect_eq "" "$(grep -h 'AUDIT_ROLLBACK_DETECTED\|AUDIT_TAMPER_DETECTED' "$VT_LOG" "${S_LOG[@]}")" \
	"no server logged a rollback or tamper"
expect_eq "|" "$(psql_super "SELECT halt_reason, halt_at FROM vt_audit_halt()")" "no rollback halt"
# The shared license file: committed = the newest counter in the database, reserved >= it.
DB_MAX=$(psql_super "SELECT vt_audit_max_counter()")
expect_eq "$DB_MAX" "$(awk '$1 == "committed" {print $2}' "$LICENSE_STATE_PATH")" \
	"license file: committed is the database's newest counter"
[ "$(awk '$1 == "reserved" {print $2}' "$LICENSE_STATE_PATH")" -ge "$DB_MAX" ] && pass ||
	fail "license file: reserved is below the database's newest counter"

# ---- a reset of the leader's database session ---------------------------------------------------------
# The dead server comes back (a new process, standby). Then the leader's lock-holding session is
# terminated (pg_terminate_backend: a connection reset; the process lives on) until the standby
# wins the race for the free lock. Whichever server holds the lock must then sequence: within a few
# seconds exactly one of the two reports "sequencing" and new rows are sealed again. (A lock
# holder that cannot open the license file because the former leader, alive, still holds its
# flock would leave nobody sequencing.)
S_LOG[$L]="$VT_TMP/s$((L + 1))-restarted.log"
s_start "$L"
KILLED=""
for _ in $(seq 1 25); do
	[ "$(audit_state "${S_ADDR[$L]}")" = standby ] && break
	sleep 0.2
done
expect_eq "standby sequencing" "$(audit_state "${S_ADDR[$L]}") $(audit_state "${S_ADDR[$F]}")" \
	"restarted S$((L + 1)) is standby, S$((F + 1)) still sequences"
RESETS=0 SWITCHED="" STUCK=""
for _ in $(seq 1 15); do
	h=$(lock_holders | head -n1)
	[ -n "$h" ] || break
	psql_super "SELECT pg_terminate_backend($h)" >/dev/null
	RESETS=$((RESETS + 1))
	# exactly one sequencing again, within 5 s
	st=""
	for _ in $(seq 1 25); do
		sleep 0.2
		st="$(audit_state "${S_ADDR[$L]}") $(audit_state "${S_ADDR[$F]}")"
		case $st in "sequencing standby" | "standby sequencing") break ;; esac
	done
	case $st in
	"sequencing standby") SWITCHED=yes; break ;;  # the standby won the race, and leads
	"standby sequencing") ;;                      # the leader got its lock back: try again
	*) STUCK=$st; break ;;
	esac
done
if [ -n "$STUCK" ]; then
	fail "after a reset of the leader's session (try $RESETS), no server sequences 5 s later:" \
		"S$((L + 1)) '${STUCK%% *}', S$((F + 1)) '${STUCK##* }', lock held by backend(s)" \
		"$(lock_holders | tr '\n' ' ')- $(grep -h 'cannot open the license state' "${S_LOG[@]}" |
			tail -n1 | sed 's/.*ERROR *//')"
else
	pass
	echo "session resets: $RESETS; $([ -n "$SWITCHED" ] && echo "S$((L + 1)) took over the lock and sequences" ||
		echo "S$((F + 1)) won back the lock every time (the race was never lost)")" >&2
fi
SEALED_BEFORE=$(psql_super "SELECT checkpoint_size FROM audit_log_state WHERE org_id = '$ORG'")
activity 2
if wait_sealed; then pass; else
	fail "after the session resets, new rows are not sealed in $SEAL_TIMEOUT s (sealed size stays" \
		"$SEALED_BEFORE of $(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG'") rows)"
fi

# Both servers stop cleanly on SIGTERM.
for k in "$L" "$F"; do
	kill -TERM "${S_PID[$k]}"
	for _ in $(seq 1 300); do
		kill -0 "${S_PID[$k]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "${S_PID[$k]}" 2>/dev/null && kill -KILL "${S_PID[$k]}"
	rc=0
	wait "${S_PID[$k]}" || rc=$?
	S_PID[$k]=""
	expect_eq 0 "$rc" "S$((k + 1)) exits 0 on SIGTERM"
done

finish
