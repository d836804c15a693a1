#!/usr/bin/env bash
# Production boot guards with the real binary: each bad setting is refused quickly with exactly one
# line that names the variable and never prints a secret; `server --help` documents every
# variable with its default; and the database role checks: a production server pointed at a
# SUPERUSER/BYPASSRLS role or at the table owner is refused, pointed at the app role it starts
# (schema current) and stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

KEY=$(openssl rand -hex 32)
JWT31=$(printf 'J%.0s' $(seq 1 31))   # 31 bytes
JWT32=$(printf 'K%.0s' $(seq 1 32))   # 32 bytes: the minimum
DEV_JWT="vaultterm-dev-jwt-secret-not-for-production"
EXTRA_PID=""

# Our own second server must not outlive the test; then lib.sh cleans up the rest.
extra_stop() {
	if [ -n "$EXTRA_PID" ] && kill -0 "$EXTRA_PID" 2>/dev/null; then
		kill -TERM "$EXTRA_PID" 2>/dev/null || true
		for _ in $(seq 1 200); do kill -0 "$EXTRA_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$EXTRA_PID" 2>/dev/null || true
	fi
}
trap 'rc=$?; set +e; extra_stop; (exit $rc); vt_cleanup' EXIT

# boot WHAT VAR=value...: runs `vaultterm server` (not --dev) with ONLY the given environment
# (nothing inherited, so the host's variables cannot leak in); sets OUT (stdout+stderr), RC, SECS.
boot() {
	local what=$1 t0
	shift
	t0=$(date +%s%N)
	OUT=$(timeout 30 env -i PATH="$PATH" HOME="$VT_TMP" ASAN_OPTIONS="$ASAN_OPTIONS" PORT=0 SSH_BROKER_PORT=0 \
		LICENSE_STATE_PATH="$VT_TMP/license-state" "$@" \
		"$VAULTTERM_BIN" server 2>&1) && RC=0 || RC=$?
	SECS=$((($(date +%s%N) - t0) / 1000000))
	WHAT=$what
}

# refused PATTERN [SECRET...]: the last boot exited non-zero within 10 s, printed exactly one
# line, the line matches PATTERN, and no SECRET appears in it.
refused() {
	local pat=$1 s
	shift
	if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ]; then pass; else fail "$WHAT: expected a refusal, exit $RC: $OUT"; fi
	if [ "$SECS" -lt 10000 ]; then pass; else fail "$WHAT: took ${SECS} ms to refuse"; fi
	expect_eq 1 "$(printf '%s\n' "$OUT" | grep -c .)" "$WHAT: exactly one line (got: $OUT)"
	if grep -qE -- "$pat" <<<"$OUT"; then pass; else fail "$WHAT: /$pat/ not in: $OUT"; fi
	for s in "$@"; do
		[ -n "$s" ] || continue
		if grep -qF -- "$s" <<<"$OUT"; then fail "$WHAT: the refusal prints a secret value"; else pass; fi
	done
}

GOOD=(APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent")

# --- JWT_SECRET ---------------------------------------------------------------------------------

boot "31-byte JWT_SECRET" APP_ENV=production JWT_SECRET="$JWT31" DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: JWT_SECRET: .*at least 32 bytes' "$JWT31" "$KEY"
boot "JWT_SECRET unset" APP_ENV=production DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: JWT_SECRET: must be set in production' "$KEY"
boot "JWT_SECRET empty" APP_ENV=production JWT_SECRET= DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'JWT_SECRET' "$KEY"
boot "JWT_SECRET = dev default" APP_ENV=production JWT_SECRET="$DEV_JWT" DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: JWT_SECRET: .*development default' "$DEV_JWT" "$KEY"
boot "NODE_ENV=production, 31-byte JWT_SECRET" NODE_ENV=production JWT_SECRET="$JWT31" DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: JWT_SECRET: .*at least 32 bytes' "$JWT31"
boot "NODE_ENV=production, JWT_SECRET unset" NODE_ENV=production DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: JWT_SECRET: must be set in production'
boot "NODE_ENV=production, dev default" NODE_ENV=production JWT_SECRET="$DEV_JWT" DEV_MASTER_KEY="$KEY" DATABASE_URL="host=/nonexistent"
refused 'JWT_SECRET: .*development default'
boot "APP_ENV=bogus" APP_ENV=staging JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY"
refused 'configuration: APP_ENV: must be production, development or test'

# --- master key and provider -------------------------------------------------------------------

boot "DEV_MASTER_KEY missing" APP_ENV=production JWT_SECRET="$JWT32" DATABASE_URL="host=/nonexistent"
refused 'refusing to start: DEV_MASTER_KEY: is required' "$JWT32"
boot "DEV_MASTER_KEY missing (development too)" JWT_SECRET="$JWT32" DATABASE_URL="host=/nonexistent"
refused 'DEV_MASTER_KEY: is required'
boot "DEV_MASTER_KEY of 63 hex digits" "${GOOD[@]}" DEV_MASTER_KEY="${KEY:0:63}"
refused 'refusing to start: DEV_MASTER_KEY: must be exactly 64 hex digits' "${KEY:0:63}" "$JWT32"
boot "DEV_MASTER_KEY of 65 hex digits" "${GOOD[@]}" DEV_MASTER_KEY="${KEY}0"
refused 'DEV_MASTER_KEY: must be exactly 64 hex digits' "${KEY}0"
NONHEX="${KEY:0:62}zz"
boot "DEV_MASTER_KEY not hex" "${GOOD[@]}" DEV_MASTER_KEY="$NONHEX"
refused 'DEV_MASTER_KEY: must be exactly 64 hex digits' "$NONHEX"
boot "KEY_PROVIDER=hcv-transit" "${GOOD[@]}" KEY_PROVIDER=hcv-transit
refused 'refusing to start: KEY_PROVIDER=hcv-transit: .*not implemented'
boot "KEY_PROVIDER unknown" "${GOOD[@]}" KEY_PROVIDER=kms
refused 'configuration: KEY_PROVIDER: must be local or hcv-transit'

# --- other settings ---------------------------------------------------------------------------------

boot "PORT=99999" "${GOOD[@]}" PORT=99999
refused 'configuration: PORT: must be a number between 0 and 65535' "$JWT32" "$KEY"
boot "PORT=-1" "${GOOD[@]}" PORT=-1
refused 'PORT: must be a number'
boot "JWT_TTL=abc" "${GOOD[@]}" JWT_TTL=abc
refused 'configuration: JWT_TTL: must be a duration'
boot "AUTH_RATE_MAX=0" "${GOOD[@]}" AUTH_RATE_MAX=0
refused 'configuration: AUTH_RATE_MAX: must be a number between 1 and'
boot "AUTH_RATE_WINDOW_MS=10" "${GOOD[@]}" AUTH_RATE_WINDOW_MS=10
refused 'configuration: AUTH_RATE_WINDOW_MS: must be milliseconds'
boot "APP_BASE_URL without scheme" "${GOOD[@]}" APP_BASE_URL=example.com
refused 'configuration: APP_BASE_URL: must start with http'
boot "an over-long JWT_SECRET" "${GOOD[@]}" JWT_SECRET="$(head -c 5000 /dev/zero | tr '\0' x)"
refused 'configuration: JWT_SECRET: value is longer than'
boot "production without DATABASE_URL" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY"
refused 'refusing to start: DATABASE_URL: is required in production' "$JWT32" "$KEY"
boot "production without LICENSE_STATE_PATH" "${GOOD[@]}" LICENSE_STATE_PATH=
refused 'refusing to start: LICENSE_STATE_PATH: is required in production' "$JWT32" "$KEY"
boot "production with AUDIT_SEQUENCER=off" "${GOOD[@]}" AUDIT_SEQUENCER=off
refused 'refusing to start: AUDIT_SEQUENCER=off: not allowed in production' "$JWT32" "$KEY"
boot "relative LICENSE_STATE_PATH" "${GOOD[@]}" LICENSE_STATE_PATH=license-state
refused 'configuration: LICENSE_STATE_PATH: must be an absolute path' "$JWT32" "$KEY"
boot "unreachable DATABASE_URL" "${GOOD[@]}" DATABASE_URL="host=$VT_TMP/nowhere user=vaultterm_app password=hunter2-not-printed"
refused 'refusing to start: cannot connect with DATABASE_URL' "hunter2-not-printed" "$JWT32" "$KEY"

# --- server --help --------------------------------------------------------------------------------

OUT=$("$VAULTTERM_BIN" server --help 2>&1) && RC=0 || RC=$?
expect_eq 0 "$RC" "server --help exit code"
for v in PORT APP_BASE_URL DATABASE_URL DATABASE_OWNER_URL JWT_SECRET JWT_TTL KEY_PROVIDER DEV_MASTER_KEY \
	AUTH_RATE_MAX AUTH_RATE_WINDOW_MS APP_ENV LOG_LEVEL SHUTDOWN_GRACE_MS; do
	if grep -qE "^  $v +" <<<"$OUT"; then pass; else fail "server --help does not list $v"; fi
done
for pair in "PORT:4000" "JWT_TTL:12h" "KEY_PROVIDER:local" "AUTH_RATE_MAX:30" "AUTH_RATE_WINDOW_MS:60000" \
	"APP_ENV:development" "DATABASE_URL:unset" "DEV_MASTER_KEY:unset"; do
	v=${pair%%:*} d=${pair#*:}
	if grep -qE "^  $v +.*\[$d\]$" <<<"$OUT"; then pass; else fail "server --help: $v default is not [$d]"; fi
done
grep -q 'NODE_ENV' <<<"$OUT" && pass || fail "server --help does not mention the NODE_ENV alias"
grep -q -- '--dev' <<<"$OUT" && pass || fail "server --help does not describe --dev"

# --- the database role checks, against a real cluster ---------------------------------------------

vt_start # a dev server: creates the cluster and the schema, and keeps it running
SOCK=$VT_DATA/run
SUPER_PW=$(vt_secret PG_SUPERUSER_PASSWORD)
OWNER_PW=$(vt_secret PG_OWNER_PASSWORD)
APP_PW=$(vt_secret PG_APP_PASSWORD)
url() { echo "host=$SOCK dbname=vaultterm user=$1 password=$2"; }

boot "DATABASE_URL = superuser" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url postgres "$SUPER_PW")"
refused 'refusing to start: DATABASE_URL: role postgres is SUPERUSER or BYPASSRLS' "$SUPER_PW" "$JWT32" "$KEY"

# A NOSUPERUSER BYPASSRLS role is refused the same way.
psql_super "DROP ROLE IF EXISTS vt_bypass; CREATE ROLE vt_bypass LOGIN NOSUPERUSER BYPASSRLS PASSWORD 'bypass-pw-1234'; GRANT vaultterm_app TO vt_bypass" >/dev/null
boot "DATABASE_URL = BYPASSRLS role" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url vt_bypass bypass-pw-1234)"
refused 'refusing to start: DATABASE_URL: role vt_bypass is SUPERUSER or BYPASSRLS' "bypass-pw-1234"

boot "DATABASE_URL = table owner" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url vaultterm_owner "$OWNER_PW")"
refused 'refusing to start: DATABASE_URL: role vaultterm_owner owns tables' "$OWNER_PW"

boot "DATABASE_URL = app role, wrong password" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url vaultterm_app wrong-password-xyz)"
refused 'refusing to start: cannot connect with DATABASE_URL' "wrong-password-xyz"

# The app role with DATABASE_OWNER_URL unset: the schema is current, so it starts.
EXTRA_LOG=$VT_TMP/extra.log
start_extra() {
	: >"$EXTRA_LOG"
	env -i PATH="$PATH" HOME="$VT_TMP" ASAN_OPTIONS="$ASAN_OPTIONS" PORT=0 SSH_BROKER_PORT=0 \
		LICENSE_STATE_PATH="$VT_TMP/extra-license-state" "$@" \
		"$VAULTTERM_BIN" server >>"$EXTRA_LOG" 2>&1 &
	EXTRA_PID=$!
	EXTRA_PORT=""
	for _ in $(seq 1 300); do
		EXTRA_PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$EXTRA_LOG" | sed 's/.*://' | tail -n1) || true
		[ -n "$EXTRA_PORT" ] && break
		kill -0 "$EXTRA_PID" 2>/dev/null || break
		sleep 0.1
	done
}
# stop_extra WHAT: SIGTERM; it must exit 0 within 30 s.
stop_extra() {
	local rc=0
	kill -TERM "$EXTRA_PID" 2>/dev/null || true
	for _ in $(seq 1 300); do kill -0 "$EXTRA_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$EXTRA_PID" 2>/dev/null; then
		fail "$1: still running 30 s after SIGTERM"
		kill -KILL "$EXTRA_PID" 2>/dev/null || true
	fi
	wait "$EXTRA_PID" 2>/dev/null || rc=$?
	expect_eq 0 "$rc" "$1: exit status after SIGTERM"
	EXTRA_PID=""
}

# The database remembers its master key: another key is refused before serving anything.
DEV_KEY=$(vt_secret DEV_MASTER_KEY)
start_extra APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url vaultterm_app "$APP_PW")"
if [ -z "$EXTRA_PORT" ] && grep -q "master key (DEV_MASTER_KEY) is not the one this database was created with" "$EXTRA_LOG"; then
	pass
else
	fail "a production server with another master key was not refused: $(cat "$EXTRA_LOG")"
fi
if [ -n "$EXTRA_PORT" ]; then stop_extra "wrong-key server"; else wait "$EXTRA_PID" 2>/dev/null || true; EXTRA_PID=""; fi
start_extra APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$DEV_KEY" DATABASE_URL="$(url vaultterm_app "$APP_PW")"
if [ -n "$EXTRA_PORT" ]; then pass; else fail "production server on the app role did not start: $(cat "$EXTRA_LOG")"; fi
if [ -n "$EXTRA_PORT" ]; then
	STATUS=$(curl -s -o "$VT_TMP/h" -w '%{http_code}' "http://127.0.0.1:$EXTRA_PORT/health") || STATUS=000
	expect_eq 200 "$STATUS" "production server answers /health"
	# It shares the database with the dev server: an account made on one logs in on the other.
	register_user boot@example.com >/dev/null
	STATUS=$(curl -s -o "$VT_TMP/h" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary '{"email":"boot@example.com","password":"correct horse battery staple"}' \
		"http://127.0.0.1:$EXTRA_PORT/api/auth/login") || STATUS=000
	expect_eq 200 "$STATUS" "production server logs in an account from the shared database"
	grep -q '(development mode)' "$EXTRA_LOG" && fail "production server claims development mode" || pass
	stop_extra "production server"
	grep -q 'received SIGTERM: draining' "$EXTRA_LOG" && pass || fail "no drain line in the production log"
	grep -q 'INFO .* stopped$' "$EXTRA_LOG" && pass || fail "no 'stopped' line in the production log"
	for s in "$APP_PW" "$JWT32" "$KEY"; do
		grep -qF -- "$s" "$EXTRA_LOG" && fail "production log contains a secret" || pass
	done
fi

# With DATABASE_OWNER_URL set too, the (no-op) migrations run at boot and it starts.
start_extra APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$DEV_KEY" DATABASE_URL="$(url vaultterm_app "$APP_PW")" \
	DATABASE_OWNER_URL="$(url vaultterm_owner "$OWNER_PW")"
if [ -n "$EXTRA_PORT" ]; then pass; else fail "production server with DATABASE_OWNER_URL did not start: $(cat "$EXTRA_LOG")"; fi
[ -n "$EXTRA_PORT" ] && stop_extra "production server with migrations"

# A schema behind this build is refused (no migrations without DATABASE_OWNER_URL).
psql_super "INSERT INTO schema_migrations (version, name, checksum)
	SELECT max(version) + 1, 'from-the-future', '\\x00'::bytea FROM schema_migrations" >/dev/null ||
	fail "cannot bump schema_migrations"
boot "schema version mismatch" APP_ENV=production JWT_SECRET="$JWT32" DEV_MASTER_KEY="$KEY" DATABASE_URL="$(url vaultterm_app "$APP_PW")"
refused 'refusing to start: the schema is at version [0-9]+ but this build needs' "$APP_PW"
psql_super "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)" >/dev/null

# Nothing of ours is left running.
extra_stop
for p in $(pgrep -f "^$VAULTTERM_BIN server$" || true); do
	if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "HOME=$VT_TMP"; then
		fail "a production server of this test is still running (pid $p)"
	fi
done
pass

finish
