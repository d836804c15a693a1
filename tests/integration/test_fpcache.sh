#!/usr/bin/env bash
# The shared fingerprint-set cache (src/vault/fpcache.c) through POST /api/vault/scan, with TWO
# server processes on one database: H (--dev, hosting the cluster) scans, S2 (a second server,
# DATABASE_URL) writes, so nothing but the database's generation can tell H that its cached set
# is stale.
#  - repeated scans of an org are answered from one load (H's debug log counts the loads per org);
#  - after S2 updates a secret's value, H no longer reports the old value and reports the new one
#    (one reload), and again from the cache afterwards;
#  - after S2 deletes it, H reports neither;
#  - another org's write does not reload this org's set; each org's values are found only by that
#    org, whichever was cached first (tenant isolation through the cache);
#  - the SSH broker's sessions (real OpenSSH client, real sshd target) share the same set: two
#    sessions, one load; after S2 updates the printed secret, a session printing the old value
#    records no exposure and one printing the new value records one; after S2 deletes it, none;
#  - no value in either log; both servers exit 0 on SIGTERM (ASan's leak check: the cache and
#    every set are freed at shutdown).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"
. "$(dirname "$0")/broker_lib.sh"

S2_PID="" S2_LOG="$VT_TMP/s2.log" S2_ADDR=""
s2_kill() {
	if [ -n "$S2_PID" ] && kill -0 "$S2_PID" 2>/dev/null; then
		kill -KILL "$S2_PID" 2>/dev/null || true
		wait "$S2_PID" 2>/dev/null || true
	fi
}
# before sshd_lib's and lib.sh's cleanup
FPC_PREV_TRAP=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; set +e; s2_kill; (exit $rc); eval "$FPC_PREV_TRAP"' EXIT

sshd_start
vt_start LOG_LEVEL=debug
H_ADDR=$VT_ADDR

# conninfo value quoting ('...' with \ and ' escaped), as src/db/cluster.c make_conninfo does
cq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\\\']/\\\\&/g")"; }
env PORT=0 AUTH_RATE_MAX=100000 SCAN_RATE_MAX=100000 LOG_LEVEL=debug SSH_BROKER_PORT=off \
	AUDIT_SEQUENCER=off DEV_MASTER_KEY="$(vt_secret DEV_MASTER_KEY)" \
	JWT_SECRET="$(vt_secret JWT_SECRET)" \
	DATABASE_URL="host=$(cq "$VT_DATA/run") dbname=vaultterm user=vaultterm_app password=$(cq "$(vt_secret PG_APP_PASSWORD)") connect_timeout=10" \
	"$VAULTTERM_BIN" server >"$S2_LOG" 2>&1 &
S2_PID=$!
for _ in $(seq 1 600); do
	port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$S2_LOG" 2>/dev/null | tail -n1 |
		sed 's/.*://') || true
	[ -n "$port" ] && break
	kill -0 "$S2_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "${port:-}" ] || { echo "S2 did not start" >&2; cat "$S2_LOG" >&2; exit 1; }
S2_ADDR="http://127.0.0.1:$port"

# on ADDR: the next api calls go to that server.
on() { VT_ADDR=$1; }
# scan TEXT BEARER
scan() { api POST /api/vault/scan "$(jq -nc --arg t "$1" '{text:$t}')" "$2"; }
hits() {
	jq --arg s "$1" '[.findings[] | select(.rule_id == "vault-secret" and .secret_id == $s)] |
		length' <<<"$BODY"
}
vhits() { jq '[.findings[] | select(.rule_id == "vault-secret")] | length' <<<"$BODY"; }
# loads LOG ORG: how many times that server loaded the org's set.
loads() { grep -c "fingerprint cache: org $2 loaded" "$1" || true; }

on "$H_ADDR"
reg alice@fpc.example
A_JWT=$REG_TOKEN A_ORG=$REG_ORG
mkvault "$A_JWT" prod
A_VAULT=$VAULT_ID
V1=$(canary one)
mksecret "$A_JWT" "$A_VAULT" "$(jq -nc --arg p "$V1" '{type:"PASSWORD",name:"db",fields:{password:$p}}')"
S=$SECRET_ID
reg bob@fpc.example
B_JWT=$REG_TOKEN B_ORG=$REG_ORG
mkvault "$B_JWT" bprod
B_VAULT=$VAULT_ID
BV=$(canary bval)
mksecret "$B_JWT" "$B_VAULT" "$(jq -nc --arg p "$BV" '{type:"API_KEY",name:"b",fields:{key:$p}}')"
S_B=$SECRET_ID

# ---- repeated scans: one load ---------------------------------------------------------------------
for i in 1 2 3 4; do
	scan "x $V1" "$A_JWT"
	expect_status 200 "H: scan $i of the value"
	expect_eq 1 "$(hits "$S")" "H: scan $i finds the value"
done
expect_eq 1 "$(loads "$VT_LOG" "$A_ORG")" "H: four scans, one load of A's set"
on "$S2_ADDR"
scan "x $V1" "$A_JWT"
expect_eq 1 "$(hits "$S")" "S2 finds the value too (its own load)"
expect_eq 1 "$(loads "$S2_LOG" "$A_ORG")" "S2: one load of A's set"

# ---- an update through the other server ----------------------------------------------------------
V2=$(canary two)
api PUT "/api/vault/secrets/$S" "$(jq -nc --arg p "$V2" '{fields:{password:$p}}')" "$A_JWT"
expect_status 200 "S2: update the value"
on "$H_ADDR"
for i in 1 2 3; do
	scan "old $V1" "$A_JWT"
	expect_status 200 "H: scan $i of the old value after the update"
	expect_eq 0 "$(hits "$S")" "H: scan $i: the old value is no longer reported"
	scan "new $V2" "$A_JWT"
	expect_eq 1 "$(hits "$S")" "H: scan $i: the new value is reported"
done
expect_eq 2 "$(loads "$VT_LOG" "$A_ORG")" "H: one reload after the update, then the cache"

# ---- tenant isolation through the cache -----------------------------------------------------------
scan "theirs $BV" "$A_JWT"
expect_status 200 "A scans B's value"
expect_eq 0 "$(vhits)" "A gets no hit for B's value"
scan "$V1 $V2" "$B_JWT"
expect_status 200 "B scans A's values"
expect_eq 0 "$(vhits)" "B gets no hit for A's values (A's set is cached)"
scan "mine $BV" "$B_JWT"
expect_eq 1 "$(hits "$S_B")" "B finds its own value"
scan "$V2 $BV" "$A_JWT"
expect_eq 1 "$(vhits)" "A, with B's set cached too: only its own value"
expect_eq 1 "$(hits "$S")" "A: its own secret"
# B writes (through S2): A's set is not reloaded, B's is.
on "$S2_ADDR"
BV2=$(canary bval2)
mksecret "$B_JWT" "$B_VAULT" "$(jq -nc --arg p "$BV2" '{type:"PASSWORD",name:"b2",fields:{password:$p}}')"
S_B2=$SECRET_ID
on "$H_ADDR"
scan "new $V2" "$A_JWT"
expect_eq 1 "$(hits "$S")" "A still finds its value"
expect_eq 2 "$(loads "$VT_LOG" "$A_ORG")" "another org's write does not reload A's set"
scan "b2 $BV2" "$B_JWT"
expect_eq 1 "$(hits "$S_B2")" "B finds its new secret"
expect_eq 2 "$(loads "$VT_LOG" "$B_ORG")" "B's write reloads B's set"

# ---- a delete through the other server -----------------------------------------------------------
on "$S2_ADDR"
api DELETE "/api/vault/secrets/$S" "" "$A_JWT"
expect_status 204 "S2: delete the secret"
on "$H_ADDR"
for i in 1 2; do
	scan "$V1 $V2" "$A_JWT"
	expect_status 200 "H: scan $i after the delete"
	expect_eq 0 "$(vhits)" "H: scan $i: neither value is reported"
done
expect_eq 3 "$(loads "$VT_LOG" "$A_ORG")" "H: one reload after the delete"

# ---- broker sessions -------------------------------------------------------------------------------
on "$H_ADDR"
broker_world
W_JWT=$A_JWT W_ORG=$A_ORG W_VAULT=$VAULT
EV1="vtold-$(openssl rand -hex 16)"
EV2="vtnew-$(openssl rand -hex 16)"
mksecret "$W_JWT" "$W_VAULT" "$(jq -nc --arg k "$EV1" '{type:"API_KEY", name:"leaky", fields:{key:$k}}')"
S_E=$SECRET_ID
sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- "printf 'x %s y\\n' $EV1 >old.txt; printf 'x %s y\\n' $EV2 >new.txt" \
	</dev/null
# session WHAT FILE EXPOSURES: a broker session cats FILE; its row counts EXPOSURES.
session() {
	bssh "$BOB_KEY" t-ed25519 -- "cat $2"
	expect_eq 0 "$RC" "$1: exit status (stderr: $ERR)"
	last_session "$B_JWT"
	expect_eq "$3" "$(jq .exposures <<<"$SESSION")" "$1: exposures"
}
w0=$(loads "$VT_LOG" "$W_ORG")
session "session 1, the stored value" old.txt 1
session "session 2, the stored value" old.txt 1
session "session 3, the other file" new.txt 0
expect_eq $((w0 + 1)) "$(loads "$VT_LOG" "$W_ORG")" "three sessions after the write: one load"
on "$S2_ADDR"
api PUT "/api/vault/secrets/$S_E" "$(jq -nc --arg k "$EV2" '{fields:{key:$k}}')" "$W_JWT"
expect_status 200 "S2: update the printed secret"
on "$H_ADDR"
session "after the update, the old value" old.txt 0
session "after the update, the new value" new.txt 1
session "after the update, the new value again" new.txt 1
expect_eq $((w0 + 2)) "$(loads "$VT_LOG" "$W_ORG")" "one reload for the sessions after the update"
session_audit "$W_JWT" CREDENTIAL_EXPOSURE_DETECTED "$SESSION_ID"
jq -e --arg s "$S_E" '.[0] | tostring | contains($s)' <<<"$ROWS" >/dev/null && pass ||
	fail "the exposure names the secret $S_E: $ROWS"
on "$S2_ADDR"
api DELETE "/api/vault/secrets/$S_E" "" "$W_JWT"
expect_status 204 "S2: delete the printed secret"
on "$H_ADDR"
session "after the delete, the old value" old.txt 0
session "after the delete, the new value" new.txt 0

# ---- logs and shutdown -----------------------------------------------------------------------------
grep -q 'fingerprint cache: org' "$VT_LOG" && pass || fail "no cache line in H's log: the counts prove nothing"
for v in "$V1" "$V2" "$BV" "$BV2" "$EV1" "$EV2"; do
	if grep -qF -- "$v" "$VT_LOG" "$S2_LOG"; then fail "a value is in a server log"; else pass; fi
done
kill -TERM "$S2_PID"
S2_EXIT=0
wait "$S2_PID" || S2_EXIT=$?
S2_PID=""
expect_eq 0 "$S2_EXIT" "S2's exit status after SIGTERM (nonzero: a sanitizer report)"
VT_EXIT=0
vt_stop
expect_eq 0 "$VT_EXIT" "H's exit status after SIGTERM (nonzero: a sanitizer report)"

finish
