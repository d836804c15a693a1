#!/usr/bin/env bash
# API throughput and latency, side by side with a baseline measured in the same run.
#
#   bench/api_bench.sh [path/to/vaultterm]    (make bench builds the release preset first)
#
# Starts a release server on its own embedded PostgreSQL in a temp dir and measures with wrk:
#   1. GET /health                 HTTP + one pooled database round trip
#   2. GET /api/auth/me (JWT)      JWT check, transaction with the org/user context, membership
#                                  re-check and the RLS-scoped reads of /me
# and, as the baseline, pgbench running the same SQL statements /api/auth/me runs, as the app
# role over the same Unix socket at the same concurrency: the floor that the HTTP layer, JSON and
# JWT add to. Prints figures only; it asserts nothing (speed is measured, not asserted).
set -euo pipefail

BIN=${1:-./build/release/vaultterm}
DURATION=${BENCH_DURATION:-10}
CONC=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
TMP=$(mktemp -d /tmp/vt-bench.XXXXXX)
chmod 0711 "$TMP"
PID=""
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in wrk curl jq; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)

PORT=0 LOG_LEVEL=warn AUTH_RATE_MAX=1000000 HTTP_THREADS=8 "$BIN" server --dev --data-dir "$TMP/data" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
	ADDR=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/server.log" | head -n1 || true)
	[ -n "$ADDR" ] && break
	sleep 0.1
done
[ -n "$ADDR" ] || { cat "$TMP/server.log"; exit 1; }

TOKEN=$(curl -s -X POST "$ADDR/api/auth/register" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"correct horse battery staple"}' | jq -r .token)
ME=$(curl -s "$ADDR/api/auth/me" -H "Authorization: Bearer $TOKEN")
USER_ID=$(jq -r .user.id <<<"$ME")
ORG_ID=$(jq -r .org.id <<<"$ME")

run_wrk() { # name, path, extra header args...
	local name=$1 path=$2
	shift 2
	local out
	out=$(wrk -t"$THREADS" -c"$CONC" -d"${DURATION}s" --latency "$@" "$ADDR$path")
	local rps p50 p99
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1=="50%" {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {print $2}' <<<"$out")
	printf '%-34s %12s %10s %10s\n' "$name" "$rps" "$p50" "$p99"
}

cat >"$TMP/me.sql" <<SQL
BEGIN;
SELECT set_config('app.current_org', '$ORG_ID', true);
SELECT set_config('app.current_user', '$USER_ID', true);
SELECT m.org_role, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = '$USER_ID';
SELECT id, name, created_at FROM orgs;
SELECT email, name, totp_enabled FROM users WHERE id = '$USER_ID';
SELECT org_id, name, org_role FROM vt_self_orgs();
COMMIT;
SQL
APP_PW=$(grep '^PG_APP_PASSWORD=' "$TMP/data/dev-secrets.env" | cut -d= -f2)

echo "VaultTerm API benchmark: $(nproc) cores, wrk -t$THREADS -c$CONC -d${DURATION}s, HTTP_THREADS=8"
printf '%-34s %12s %10s %10s\n' "endpoint" "req/s" "p50" "p99"
run_wrk "GET /health" /health
run_wrk "GET /api/auth/me (JWT)" /api/auth/me -H "Authorization: Bearer $TOKEN"
tps=$(PGPASSWORD="$APP_PW" "$PGBIN/pgbench" -n -h "$TMP/data/run" -U vaultterm_app \
	-c "$CONC" -j "$THREADS" -T "$DURATION" -f "$TMP/me.sql" vaultterm 2>/dev/null |
	awk '/^tps/ {print $3; exit}')
printf '%-34s %12s %10s %10s\n' "baseline: same SQL via pgbench" "$tps" "-" "-"
