#!/usr/bin/env bash
# The auth rate limiter (AUTH_RATE_MAX per AUTH_RATE_WINDOW_MS), attacked from one address:
#  - 30 wrong-password logins get 401, the 31st gets 429 rate_limited, and so do register and
#    accept-invite (one per-address budget, also when the three are mixed);
#  - the per-e-mail limit is separate: from a second loopback address (127.0.0.2, a genuinely
#    different source; X-Forwarded-For is ignored by design and is shown to be) the exhausted
#    e-mail is still refused while another e-mail logs in; auth_rate_limits holds "ip:<addr>" and
#    "email:<SHA-256 hex of the normalized address>" keys, never the address itself;
#  - authenticated endpoints are not limited by it (and do not consume it);
#  - the state survives a restart (UNLOGGED table, clean stop) and expires with the window:
#    restarted with AUTH_RATE_WINDOW_MS=1000, login works again, a new burst is limited within
#    the window, and the limit lifts once the window has passed.
. "$(dirname "$0")/lib.sh"

vt_start AUTH_RATE_MAX=30 AUTH_RATE_WINDOW_MS=60000

PW='correct horse battery staple'
SRC2=127.0.0.2

# api_from ADDR METHOD PATH [BODY] [HEADER...]: like api, from a chosen local source address.
api_from() {
	local src=$1 method=$2 path=$3 body=${4:-}
	shift 4 || shift $#
	local args=(-s -S -o "$VT_TMP/body" -w '%{http_code}' -X "$method" --max-time 60
		--interface "$src")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	for h in "$@"; do args+=(-H "$h"); done
	STATUS=$(curl "${args[@]}" "$VT_ADDR$path") || STATUS=000
	BODY=$(cat "$VT_TMP/body" 2>/dev/null || true)
}
hits() { psql_super "SELECT coalesce((SELECT hits FROM auth_rate_limits WHERE key = '$1'), 0)"; }
login_body() { jq -nc --arg e "$1" --arg p "$2" '{email:$e,password:$p}'; }
reset_limits() { psql_super "DELETE FROM auth_rate_limits"; }
email_key() { printf 'email:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }

# ---- setup (uses the limiter too; reset afterwards) ---------------------------------------------
A_JWT=$(register_user alice@rl.example)
register_user bob@rl.example >/dev/null
api POST /api/orgs/current/invites '{"email":"carol@rl.example"}' "$A_JWT"
expect_status 201 "invite carol"
INVITE=$(jq -r .invite_token <<<"$BODY")
reset_limits

# ---- 30 wrong logins → 401, the 31st → 429 ------------------------------------------------------
n401=0
for i in $(seq 1 30); do
	api POST /api/auth/login "$(login_body alice@rl.example "wrong password $i")"
	[ "$STATUS" = 401 ] && n401=$((n401 + 1))
done
expect_eq 30 "$n401" "30 wrong-password logins answered 401"
api POST /api/auth/login "$(login_body alice@rl.example "wrong password 31")"
expect_status 429 "31st login"
expect_code rate_limited "31st login"
# Even the right password is refused now, and X-Forwarded-For does not move the caller elsewhere.
api_from 127.0.0.1 POST /api/auth/login "$(login_body alice@rl.example "$PW")" \
	'X-Forwarded-For: 203.0.113.9' 'X-Real-IP: 203.0.113.9'
expect_status 429 "right password with a spoofed X-Forwarded-For"
expect_eq 0 "$(psql_super "SELECT count(*) FROM auth_rate_limits WHERE key LIKE '%203.0.113.9%'")" \
	"X-Forwarded-For is not a rate-limit key"
# register and accept-invite share the per-address budget.
api POST /api/auth/register "$(login_body dave@rl.example "$PW")"
expect_status 429 "register after the limit"
expect_code rate_limited "register after the limit"
api POST /api/auth/accept-invite "$(jq -nc --arg t "$INVITE" --arg p "$PW" \
	'{invite_token:$t,password:$p}')"
expect_status 429 "accept-invite after the limit"
expect_code rate_limited "accept-invite after the limit"
expect_eq 0 "$(psql_super "SELECT count(*) FROM users WHERE email = 'dave@rl.example'")" \
	"the refused registration did nothing"
expect_eq 0 "$(psql_super "SELECT count(*) FROM users WHERE email = 'carol@rl.example'")" \
	"the refused invite acceptance did nothing"

# ---- the keys -----------------------------------------------------------------------------------
# 34 requests from 127.0.0.1 (each counted before it is refused); the e-mail key counts only the
# logins that got past the address check (30).
expect_eq 34 "$(hits ip:127.0.0.1)" "ip:127.0.0.1 hits"
ALICE_KEY=$(email_key alice@rl.example)
expect_eq 30 "$(hits "$ALICE_KEY")" "e-mail key hits (SHA-256 of the address)"
expect_eq "" "$(psql_super "SELECT key FROM auth_rate_limits
	WHERE key !~ '^(ip:[0-9a-f.:]+|email:[0-9a-f]{64})$'")" "every key is ip:<addr> or email:<sha256>"
expect_eq 0 "$(psql_super "SELECT count(*) FROM auth_rate_limits WHERE key LIKE '%@%'
	OR key LIKE '%rl.example%'")" "no e-mail address stored in a key"
# The e-mail is normalized before hashing: a differently cased spelling is the same key.
api_from "$SRC2" POST /api/auth/login "$(login_body ALICE@RL.Example "$PW")"
expect_status 429 "per-e-mail limit from another address (case-folded e-mail)"
expect_code rate_limited "per-e-mail limit"
expect_eq 31 "$(hits "$ALICE_KEY")" "the upper-case spelling counted on the same key"
# ... and from that other address a different e-mail is fine: the 429 above was the e-mail limit.
api_from "$SRC2" POST /api/auth/login "$(login_body bob@rl.example "$PW")"
expect_status 200 "another e-mail from the other address"
expect_eq 2 "$(hits "ip:$SRC2")" "ip:$SRC2 hits"
expect_eq 1 "$(hits "$(email_key bob@rl.example)")" "bob's e-mail key"
B_JWT=$(jq -r .token <<<"$BODY")

# ---- authenticated endpoints are not limited and do not consume the budget ----------------------
ok=0
for i in $(seq 1 40); do
	api GET /api/auth/me "" "$A_JWT"
	[ "$STATUS" = 200 ] && ok=$((ok + 1))
done
expect_eq 40 "$ok" "40 authenticated requests from the limited address"
api POST /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$A_JWT"
expect_status 201 "authenticated POST from the limited address"
api GET /api/orgs/current/members "" "$B_JWT"
expect_status 200 "bob's JWT from the limited address"
expect_eq 34 "$(hits ip:127.0.0.1)" "authenticated requests did not count"

# ---- the three endpoints draw on one budget, mixed -------------------------------------------------
reset_limits
codes=""
for i in $(seq 1 10); do
	api POST /api/auth/register "$(login_body "user$i@rl.example" "$PW")"
	codes="$codes $STATUS"
	api POST /api/auth/accept-invite '{"invite_token":"vti_not-a-real-invite"}'
	codes="$codes $STATUS"
	api POST /api/auth/login "$(login_body "user$i@rl.example" "wrong password $i")"
	codes="$codes $STATUS"
done
expect_eq "$(printf ' 201 404 401%.0s' $(seq 1 10))" "$codes" "30 mixed requests within the budget"
for what in register accept-invite login; do
	case $what in
	register) api POST /api/auth/register "$(login_body late@rl.example "$PW")" ;;
	accept-invite) api POST /api/auth/accept-invite '{"invite_token":"vti_not-a-real-invite"}' ;;
	login) api POST /api/auth/login "$(login_body user1@rl.example "$PW")" ;;
	esac
	expect_status 429 "$what after 30 mixed requests"
done

# ---- restart: the state persists, the window expires ---------------------------------------------
vt_stop
vt_start AUTH_RATE_MAX=2 AUTH_RATE_WINDOW_MS=1000
expect_eq 33 "$(hits ip:127.0.0.1)" "the limiter state survived the restart"
sleep 1.1 # whatever else happened, the last hit is now older than the 1 s window
api POST /api/auth/login "$(login_body alice@rl.example "$PW")"
expect_status 200 "login after the window expired"
expect_eq 1 "$(hits ip:127.0.0.1)" "a new window started"
# A burst within a fresh window is limited: three cheap requests (the address is checked before
# the body is even parsed), well inside 1 s.
sleep 1.1
api POST /api/auth/register '{}'
expect_status 400 "1st request in a fresh window (invalid body, still counted)"
api POST /api/auth/register '{}'
expect_status 400 "2nd request in the window"
api POST /api/auth/register '{}'
expect_status 429 "3rd request within 1 s"
# ... and lifts once the window has passed.
sleep 1.1
api POST /api/auth/login "$(login_body alice@rl.example "$PW")"
expect_status 200 "login once the window has passed"

finish
