#!/usr/bin/env bash
# The scan rate limit (SCAN_RATE_MAX per SCAN_RATE_WINDOW_MS per principal, docs/scanner-server.md
# §4 and §6), with SCAN_RATE_MAX=3:
#  - a user's first 3 scans answer 200, the 4th (and a 5th with a malformed body: the limit is
#    checked before the body) 429 rate_limited with Retry-After and a reply that holds nothing but
#    {error:{code,message,request_id}} — no findings, no byte of the text; the refusals write no audit row,
#    and nothing of the text reaches the server log;
#  - requests that fail still count (three bad bodies, then a good one is refused);
#  - the limit is per principal: another user of the same org, an API token of the limited user's
#    org, a user of another org, and the limited user acting in another org all still scan;
#  - auth_rate_limits holds "scan:<org>:user:<id>" / "scan:<org>:token:<id>" keys and nothing of
#    the text;
#  - a second server on the same database enforces the same count (it lives in PostgreSQL);
#  - the count starts again once the window has passed (the window is moved back in the table).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

S2_PID="" S2_LOG="$VT_TMP/s2.log"
# S2 here, the first server and the cluster in vt_cleanup (lib.sh).
scanrate_cleanup() {
	local rc=$?
	if [ -n "$S2_PID" ] && kill -0 "$S2_PID" 2>/dev/null; then
		kill -TERM "$S2_PID" 2>/dev/null || true
		wait "$S2_PID" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ "$VT_FAILS" -ne 0 ]; then
		echo "---- S2 log (last 30 lines) ----" >&2
		tail -n 30 "$S2_LOG" >&2 2>/dev/null || true
	fi
	# vt_cleanup reads the test's status from $?: hand it over without tripping `set -e`.
	set +e
	(exit "$rc")
	vt_cleanup
}
trap scanrate_cleanup EXIT

# A 10-minute window: however slow the build, every scan below falls in one window.
vt_start SCAN_RATE_MAX=3 SCAN_RATE_WINDOW_MS=600000
H_ADDR=$VT_ADDR
LIMIT_MSG="too many scans: at most 3 per 600 s for each user or API token; try again later"

# scan TEXT BEARER [ADDR]: POST /api/vault/scan {text}; STATUS, BODY and the headers in HDRS.
scan() {
	scan_raw "$(jq -nc --arg t "$1" '{text:$t}')" "$2" "${3:-$H_ADDR}"
}
# scan_raw BODY BEARER [ADDR [CONTENT_TYPE]]: the same with any body.
scan_raw() {
	STATUS=$(curl -s -S -o "$VT_TMP/body" -D "$VT_TMP/hdrs" -w '%{http_code}' -X POST \
		--max-time 60 -H "Authorization: Bearer $2" \
		-H "Content-Type: ${4:-application/json}" --data-binary "$1" \
		"${3:-$H_ADDR}/api/vault/scan") || STATUS=000
	BODY=$(cat "$VT_TMP/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$VT_TMP/hdrs" 2>/dev/null || true)
}
hits() { psql_super "SELECT coalesce((SELECT hits FROM auth_rate_limits WHERE key = '$1'), 0)"; }
retry_after() { sed -n 's/^[Rr]etry-[Aa]fter: *//p' <<<"$HDRS"; }
# expect_ok WHAT: a 200 scan reply (findings listed, no Retry-After).
expect_ok() {
	expect_status 200 "$1"
	expect_jq '(.findings | type) == "array" and (.count | type) == "number"' "$1: a scan reply"
	expect_eq "" "$(retry_after)" "$1: no Retry-After"
}
# expect_limited WHAT: the 429 — code, message, Retry-After, and nothing else in the reply.
expect_limited() {
	expect_status 429 "$1"
	expect_code rate_limited "$1"
	expect_eq "$LIMIT_MSG" "$(jq -r .error.message <<<"$BODY")" "$1: message"
	expect_eq 600 "$(retry_after)" "$1: Retry-After (the window, an upper bound)"
	expect_jq 'keys == ["error"] and (.error | keys) == ["code", "message", "request_id"]' \
		"$1: the reply is the error alone (no findings, no count)"
	case "$BODY$HDRS" in
	*"$PWV"* | *"$TXT"*) fail "$1: the reply holds a byte of the scanned text" ;;
	*) pass ;;
	esac
}
# exposures JWT: the org's CREDENTIAL_EXPOSURE_DETECTED rows.
exposures() {
	audit_all "$1" "action=CREDENTIAL_EXPOSURE_DETECTED"
	jq length <<<"$AUDIT"
}

# ---- org A: alice (owner) with a stored password; carol and bob, members; org B: dave ----------------
reg alice@scanrate.example
A_JWT=$REG_TOKEN A_ORG=$REG_ORG A_USER=$REG_USER
mkvault "$A_JWT" prod
PWV=$(canary pw)
mksecret "$A_JWT" "$VAULT_ID" "$(jq -nc --arg p "$PWV" '{type:"PASSWORD",name:"db",fields:{password:$p}}')"
join "$A_JWT" carol@scanrate.example member
C_JWT=$JOIN_TOKEN C_USER=$JOIN_USER
join "$A_JWT" bob@scanrate.example member
B_JWT=$JOIN_TOKEN B_USER=$JOIN_USER
reg dave@scanrate.example
D_JWT=$REG_TOKEN D_ORG=$REG_ORG
TXT=$(canary txt)
TEXT="deploy $TXT: password=$PWV ok"
A_KEY="scan:$A_ORG:user:$A_USER"
expect_eq 0 "$(psql_super "SELECT count(*) FROM auth_rate_limits WHERE key LIKE 'scan:%'")" \
	"no scan key before the first scan"

# ---- alice: 3 scans, then 429 ----------------------------------------------------------------------
for i in 1 2 3; do
	scan "$TEXT" "$A_JWT"
	expect_ok "alice's scan $i"
	expect_jq '[.findings[] | select(.rule_id == "vault-secret")] | length == 1' \
		"alice's scan $i finds the stored password"
done
expect_eq 3 "$(hits "$A_KEY")" "alice's key counts her 3 scans"
expect_eq 3 "$(exposures "$A_JWT")" "one CREDENTIAL_EXPOSURE_DETECTED row per scan that found it"
audit_all "$A_JWT"
ROWS_BEFORE=$(jq length <<<"$AUDIT")

scan "$TEXT" "$A_JWT"
expect_limited "alice's 4th scan"
# The limit comes before the body: a malformed one is refused the same way, not with a 400.
scan_raw '{"text": "'"$TXT"'" ' "$A_JWT"
expect_limited "alice's 5th request, a malformed body"
expect_eq 5 "$(hits "$A_KEY")" "refused requests count too (a flood stays limited)"
expect_eq 3 "$(exposures "$A_JWT")" "the refused scans found nothing and wrote no exposure row"
audit_all "$A_JWT"
expect_eq "$ROWS_BEFORE" "$(jq length <<<"$AUDIT")" "the refusals are not audited"
expect_eq 2 "$(grep -c 'POST /api/vault/scan 429 ' "$VT_LOG" || true)" \
	"each refusal has its access-log line"
# Other endpoints are not affected by the scan limit.
api GET /api/vault/vaults "" "$A_JWT"
expect_status 200 "alice still lists vaults"

# ---- per principal ---------------------------------------------------------------------------------
scan "$TEXT" "$C_JWT"
expect_ok "carol (same org) is not limited by alice's count"
expect_jq '[.findings[] | select(.rule_id == "vault-secret")] | length == 1' \
	"carol's scan finds the stored value (without its id: she may not read it)"
expect_eq 1 "$(hits "scan:$A_ORG:user:$C_USER")" "carol has her own key"

# bob: failing requests count.
scan_raw '{"text": 1}' "$B_JWT"
expect_status 400 "bob: text is not a string"
scan_raw '{"text": "x"' "$B_JWT"
expect_status 400 "bob: malformed JSON"
scan_raw '{"text": "x"}' "$B_JWT" "$H_ADDR" text/plain
expect_status 415 "bob: wrong media type"
scan "$TEXT" "$B_JWT"
expect_limited "bob's 4th request after 3 failed ones"

# An API token of org A (created by the limited alice) has its own count.
mktoken "$A_JWT" scanner '["vault:read"]'
for i in 1 2 3; do
	scan "$TEXT" "$TOK"
	expect_ok "token scan $i"
done
expect_jq '[.findings[] | select(.rule_id == "vault-secret" and .field == "password")] |
	length == 1' "the vault:read token sees the secret's field"
scan "$TEXT" "$TOK"
expect_limited "token's 4th scan"
expect_eq 4 "$(hits "scan:$A_ORG:token:$TOK_ID")" "the token's key"

# Another org's user, and alice herself acting in that other org.
scan "$TEXT" "$D_JWT"
expect_ok "dave (org B) is not limited"
join "$D_JWT" alice@scanrate.example member "$A_JWT"
AB_JWT=$JOIN_TOKEN
scan "$TEXT" "$AB_JWT"
expect_ok "alice acting in org B has org B's count"
expect_eq 1 "$(hits "scan:$D_ORG:user:$A_USER")" "alice's key in org B"
scan "$TEXT" "$A_JWT"
expect_limited "alice in org A is still limited"

# ---- the keys hold ids only ----------------------------------------------------------------------
expect_eq "" "$(psql_super "SELECT key FROM auth_rate_limits WHERE key LIKE 'scan:%' AND key !~
	'^scan:[0-9a-f-]{36}:(user|token):[0-9a-f-]{36}\$'")" "every scan key is scan:<org>:<kind>:<id>"
expect_eq 0 "$(psql_super "SELECT count(*) FROM auth_rate_limits WHERE key LIKE '%pw-%'
	OR key LIKE '%txt-%'")" "no byte of the text in a key"
if grep -q -e "$PWV" -e "$TXT" "$VT_LOG"; then fail "the server log holds the scanned text"; else pass; fi

# ---- a second server on the same database: one count -----------------------------------------------
cq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\\\']/\\\\&/g")"; }
: >"$S2_LOG"
env PORT=0 AUTH_RATE_MAX=100000 SCAN_RATE_MAX=3 SCAN_RATE_WINDOW_MS=600000 LOG_LEVEL=info \
	AUDIT_SEQUENCER=off \
	DATABASE_URL="host=$(cq "$VT_DATA/run") dbname=vaultterm user=vaultterm_app password=$(cq "$(vt_secret PG_APP_PASSWORD)") connect_timeout=10" \
	DEV_MASTER_KEY="$(vt_secret DEV_MASTER_KEY)" JWT_SECRET="$(vt_secret JWT_SECRET)" \
	"$VAULTTERM_BIN" server >>"$S2_LOG" 2>&1 &
S2_PID=$!
S2_ADDR=""
for _ in $(seq 1 600); do
	port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$S2_LOG" 2>/dev/null | tail -n1 |
		sed 's/.*://') || true
	[ -n "$port" ] && { S2_ADDR="http://127.0.0.1:$port"; break; }
	kill -0 "$S2_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$S2_ADDR" ] || { cat "$S2_LOG" >&2; echo "the second server did not start" >&2; exit 1; }
scan "$TEXT" "$A_JWT" "$S2_ADDR"
expect_limited "alice on the second server"
scan "$TEXT" "$C_JWT" "$S2_ADDR"
expect_ok "carol's 2nd scan, on the second server"
scan "$TEXT" "$C_JWT" "$S2_ADDR"
expect_ok "carol's 3rd scan, on the second server"
scan "$TEXT" "$C_JWT"
expect_limited "carol's 4th scan, back on the first server"

# ---- the window ends -----------------------------------------------------------------------------
psql_super "UPDATE auth_rate_limits SET window_start = window_start - interval '601 seconds'
	WHERE key = '$A_KEY'"
scan "$TEXT" "$A_JWT"
expect_ok "alice once her window has passed"
expect_eq 1 "$(hits "$A_KEY")" "a new window started"
scan "$TEXT" "$C_JWT"
expect_limited "carol's window has not passed"

finish
