# Shared helpers for integration tests: each test sources this, starts its own server on its own
# embedded PostgreSQL cluster in a private temp dir (PORT=0: a free port), drives it with curl,
# psql and the real CLI, and cleans everything up on exit (server, cluster, temp dir).
#
#   . "$(dirname "$0")/lib.sh"
#   vt_start                       # env overrides: vt_start AUTH_RATE_MAX=30 (both rate limits
#                                  # default to 100000 here; test_ratelimit/test_scan_rate lower them)
#   api POST /api/auth/register '{"email":...}' [TOKEN]   → $STATUS, $BODY
#   expect_status 201 "register"
#   token=$(register_user alice@example.com)
#   psql_super "SELECT ..."        # superuser (for test setup / fault injection only)
#   psql_app "SELECT ..."          # the server's app role
#   finish                         # prints the summary, exits non-zero on any failure
set -euo pipefail

: "${VAULTTERM_BIN:?VAULTTERM_BIN must point at the vaultterm binary}"
VT_TEST_NAME=$(basename "$0" .sh)
VT_TMP=$(mktemp -d "/tmp/vt-${VT_TEST_NAME}.XXXXXX")
chmod 0711 "$VT_TMP" # the cluster runs as `postgres` when we are root: it must traverse this
VT_DATA="$VT_TMP/data"
VT_LOG="$VT_TMP/server.log"
VT_PID=""
VT_ADDR=""
VT_FAILS=0
VT_PASSES=0
STATUS=""
BODY=""
export VAULTTERM_CONFIG_DIR="$VT_TMP/cli"
# Every server a test starts (vt_start, or by hand) gets its own free broker port.
export SSH_BROKER_PORT="${SSH_BROKER_PORT:-0}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"

vt_stop() {
	if [ -n "$VT_PID" ] && kill -0 "$VT_PID" 2>/dev/null; then
		kill -TERM "$VT_PID" 2>/dev/null || true
		for _ in $(seq 1 300); do
			kill -0 "$VT_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$VT_PID" 2>/dev/null; then
			echo "server did not stop on SIGTERM; killing" >&2
			kill -KILL "$VT_PID" 2>/dev/null || true
		fi
		wait "$VT_PID" 2>/dev/null || VT_EXIT=$?
	fi
	VT_PID=""
}

vt_cleanup() {
	local rc=$?
	vt_stop
	# A cluster left behind (server killed hard) must not outlive the test.
	pkill -f "postgres -D $VT_DATA/pg" 2>/dev/null || true
	if [ "$rc" -ne 0 ] || [ "$VT_FAILS" -ne 0 ]; then
		echo "---- server log (last 60 lines) ----" >&2
		tail -n 60 "$VT_LOG" >&2 2>/dev/null || true
	fi
	rm -rf "$VT_TMP"
}
trap vt_cleanup EXIT

# vt_start [VAR=value ...]: starts `vaultterm server --dev` and waits until it serves.
vt_start() {
	: >"$VT_LOG"
	env PORT=0 AUTH_RATE_MAX="${AUTH_RATE_MAX:-100000}" SCAN_RATE_MAX="${SCAN_RATE_MAX:-100000}" \
		LOG_LEVEL="${LOG_LEVEL:-info}" "$@" \
		"$VAULTTERM_BIN" server --dev --data-dir "$VT_DATA" >>"$VT_LOG" 2>&1 &
	VT_PID=$!
	local port=""
	for _ in $(seq 1 600); do
		port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$VT_LOG" 2>/dev/null | tail -n1 |
			sed 's/.*://') || true
		[ -n "$port" ] && break
		if ! kill -0 "$VT_PID" 2>/dev/null; then
			echo "server exited during start-up" >&2
			cat "$VT_LOG" >&2
			VT_PID=""
			return 1
		fi
		sleep 0.1
	done
	[ -n "$port" ] || { echo "server did not start in 60 s" >&2; return 1; }
	VT_ADDR="http://127.0.0.1:$port"
	export VAULTTERM_ADDR="$VT_ADDR"
	# The SSH broker logs its port before the HTTP server listens (absent when it is off).
	VT_SSH_PORT=$(grep -o 'ssh broker listening on [0-9.]*:[0-9]*' "$VT_LOG" 2>/dev/null |
		tail -n1 | sed 's/.*://') || true
}

# api METHOD PATH [JSON_BODY] [BEARER]: sets STATUS and BODY.
api() {
	local method=$1 path=$2 body=${3:-} token=${4:-}
	local args=(-s -S -o "$VT_TMP/body" -w '%{http_code}' -X "$method" --max-time 60)
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	STATUS=$(curl "${args[@]}" "$VT_ADDR$path") || STATUS=000
	BODY=$(cat "$VT_TMP/body" 2>/dev/null || true)
}

pass() { VT_PASSES=$((VT_PASSES + 1)); }
fail() {
	VT_FAILS=$((VT_FAILS + 1))
	echo "FAIL: $*" >&2
}

# expect_status CODE WHAT: checks $STATUS (and that error bodies have the documented shape).
expect_status() {
	if [ "$STATUS" = "$1" ]; then
		pass
	else
		fail "$2: expected HTTP $1, got $STATUS: $BODY"
		return 0
	fi
	if [ "$1" -ge 400 ] && [ "$1" != 431 ]; then
		if ! jq -e '.error.code | type == "string"' <<<"$BODY" >/dev/null 2>&1 ||
			! jq -e '.error.message | type == "string"' <<<"$BODY" >/dev/null 2>&1; then
			fail "$2: error body does not have {error:{code,message}}: $BODY"
		fi
	fi
}

# expect_code CODE WHAT: checks .error.code of $BODY.
expect_code() {
	local got
	got=$(jq -r '.error.code // empty' <<<"$BODY" 2>/dev/null || true)
	if [ "$got" = "$1" ]; then pass; else fail "$2: expected error code $1, got '$got': $BODY"; fi
}

# expect_eq EXPECTED ACTUAL WHAT
expect_eq() {
	if [ "$1" = "$2" ]; then pass; else fail "$3: expected '$1', got '$2'"; fi
}

# expect_jq FILTER WHAT: the jq filter must be true on $BODY.
expect_jq() {
	if jq -e "$1" <<<"$BODY" >/dev/null 2>&1; then pass; else fail "$2: '$1' is not true on: $BODY"; fi
}

# register_user EMAIL [PASSWORD]: registers and prints the JWT.
register_user() {
	local pw=${2:-correct horse battery staple}
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$pw" '{email:$e,password:$p}')"
	if [ "$STATUS" != 201 ]; then
		echo "register $1 failed: $STATUS $BODY" >&2
		return 1
	fi
	jq -r .token <<<"$BODY"
}

vt_secret() { grep "^$1=" "$VT_DATA/dev-secrets.env" | cut -d= -f2-; }

psql_as() {
	local user=$1 pw=$2
	shift 2
	PGPASSWORD="$pw" psql -X -q -v ON_ERROR_STOP=1 -h "$VT_DATA/run" -U "$user" -d vaultterm -At "$@"
}
psql_super() { psql_as postgres "$(vt_secret PG_SUPERUSER_PASSWORD)" -c "$1"; }
psql_app() { psql_as vaultterm_app "$(vt_secret PG_APP_PASSWORD)" -c "$1"; }
psql_owner() { psql_as vaultterm_owner "$(vt_secret PG_OWNER_PASSWORD)" -c "$1"; }

# vt CLI wrapper: runs the real CLI against this server.
vt() { "$VAULTTERM_BIN" "$@"; }

finish() {
	echo "$VT_TEST_NAME: $VT_PASSES passed, $VT_FAILS failed"
	[ "$VT_FAILS" -eq 0 ]
}
