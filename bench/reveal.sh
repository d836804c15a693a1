#!/usr/bin/env bash
# Reveal throughput and latency, side by side with baselines measured in the same run.
#
#   bench/reveal.sh [path/to/vaultterm]     (make bench builds the release preset first)
#
# 1. POST /api/vault/secrets/{id}/reveal with wrk (a Lua script: JSON body, bearer JWT) at 1, 16
#    and 64 concurrent clients: requests/s, p50, p99, non-2xx replies. A reveal is: JWT check,
#    BEGIN + org/user context, membership re-check, the secret + vault_members + current
#    envelope read (one query), envelope_open (DEK unwrap + AES-GCM), the SECRET_REVEALED audit insert, COMMIT, JSON.
# 2. The floor: pgbench running the same SQL statements as one reveal (the same reads, the same
#    audit_log insert through the app role's columns, one transaction, the same 6 round trips) as
#    the app role over the same Unix socket at the same concurrency; its p50/p99 come from
#    pgbench's per-transaction log. The ratio reveal/pgbench is what the HTTP layer, JSON, JWT and
#    the envelope leave of the database's throughput.
# 3. envelope_seal/envelope_open of 1 KiB records (bench/envelope_bench.c, one thread) next to
#    `openssl speed -evp aes-256-gcm -bytes 1024` (raw AES-GCM under an expanded key, one thread).
#
# Targets (issue): reveal ≥ 0.70 × the pgbench floor, and p99 < 10 ms at 64 clients, on 2 cores.
# Prints figures and whether each target is met; it asserts nothing (speed is measured, not
# asserted). Knobs: BENCH_DURATION (s per run, 10), BENCH_CLIENTS ("1 16 64"), BENCH_HTTP_THREADS
# (16), BENCH_DB_POOL (20), BENCH_SEAL_SECONDS (3).
set -euo pipefail

BIN=${1:-./build/release/vaultterm}
BINDIR=$(cd "$(dirname "$BIN")" && pwd)
DURATION=${BENCH_DURATION:-10}
CLIENTS=${BENCH_CLIENTS:-1 16 64}
HTTP_THREADS=${BENCH_HTTP_THREADS:-16}
DB_POOL=${BENCH_DB_POOL:-20}
SEAL_SECONDS=${BENCH_SEAL_SECONDS:-3}
TARGET_RATIO=0.70
TARGET_P99_MS=10
TMP=$(mktemp -d /tmp/vt-bench-reveal.XXXXXX)
chmod 0711 "$TMP"
PID=""
cleanup() {
	if [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; then
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in wrk curl jq openssl awk; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
ENVBENCH="$BINDIR/envelope_bench"
if [ ! -x "$ENVBENCH" ]; then
	cmake --build "$BINDIR" --target envelope_bench >/dev/null ||
		{ echo "bench: cannot build envelope_bench in $BINDIR" >&2; exit 1; }
fi

# ---- server on its own embedded cluster ---------------------------------------------------------
PORT=0 LOG_LEVEL=warn AUTH_RATE_MAX=1000000 HTTP_THREADS="$HTTP_THREADS" DB_POOL_SIZE="$DB_POOL" \
	"$BIN" server --dev --data-dir "$TMP/data" >"$TMP/server.log" 2>&1 &
PID=$!
ADDR=""
for _ in $(seq 1 600); do
	ADDR=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/server.log" | head -n1 || true)
	[ -n "$ADDR" ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$ADDR" ] || { cat "$TMP/server.log"; exit 1; }

EMAIL=bench-reveal@example.com
TOKEN=$(curl -sf -X POST "$ADDR/api/auth/register" -H 'Content-Type: application/json' \
	-d "{\"email\":\"$EMAIL\",\"password\":\"correct horse battery staple\"}" | jq -r .token)
ME=$(curl -sf "$ADDR/api/auth/me" -H "Authorization: Bearer $TOKEN")
USER_ID=$(jq -r .user.id <<<"$ME")
ORG_ID=$(jq -r .org.id <<<"$ME")
VAULT_ID=$(curl -sf -X POST "$ADDR/api/vault/vaults" -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' -d '{"name":"bench"}' | jq -r .id)
SECRET=$(jq -nc '{type:"PASSWORD", name:"db-primary", fields:{password:"7hY#kq2!vL9@xR4$",
	username:"app_service", url:"https://db.internal.example:5432/prod",
	notes:"rotated quarterly; owner: platform team"}}')
SECRET_ID=$(curl -sf -X POST "$ADDR/api/vault/vaults/$VAULT_ID/secrets" \
	-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$SECRET" | jq -r .id)
REASON='{"reason":"bench"}'
got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ADDR/api/vault/secrets/$SECRET_ID/reveal" \
	-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$REASON")
[ "$got" = 200 ] || { echo "bench: a reveal answers $got" >&2; tail -n 20 "$TMP/server.log"; exit 1; }

cat >"$TMP/reveal.lua" <<LUA
wrk.method = "POST"
wrk.body = '$REASON'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

# The SQL of one reveal (src/api/dispatch.c, src/auth/session.c, src/vault/secrets.c,
# src/audit/audit.c), statement for statement. `\;` keeps BEGIN and the context in one round trip,
# as db_tx_begin_as does.
RFC3339() { echo "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"; }
cat >"$TMP/reveal.sql" <<SQL
BEGIN \; SELECT set_config('app.current_org', '$ORG_ID', true), set_config('app.current_user', '$USER_ID', true);
SELECT m.org_role, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.user_id = '$USER_ID';
SELECT s.id, s.vault_id, s.type, s.name, array_to_json(s.tags)::text, s.inject_only, s.version, $(RFC3339 s.created_at), $(RFC3339 s.updated_at), s.created_by, s.updated_by, vm.role, sv.envelope FROM secrets s LEFT JOIN vault_members vm ON vm.vault_id = s.vault_id AND vm.user_id = '$USER_ID' LEFT JOIN secret_versions sv ON sv.secret_id = s.id AND sv.version = s.version WHERE s.id = '$SECRET_ID';
INSERT INTO audit_log (id, actor_type, actor_id, actor_email, action, resource_type, resource_id, outcome, source_ip, request_id, detail, org_id) VALUES (gen_random_uuid(), 'user', '$USER_ID', '$EMAIL', 'SECRET_REVEALED', 'secret', '$SECRET_ID', 'success', '127.0.0.1', md5(random()::text), '{"reason":"bench","type":"PASSWORD","version":1}', '$ORG_ID');
COMMIT;
SQL
APP_PW=$(grep '^PG_APP_PASSWORD=' "$TMP/data/dev-secrets.env" | cut -d= -f2)
# The script must do what a reveal does: one run as the app role, then one more audit row.
SUPER_PW=$(grep '^PG_SUPERUSER_PASSWORD=' "$TMP/data/dev-secrets.env" | cut -d= -f2)
reveals() {
	PGPASSWORD="$SUPER_PW" "$PGBIN/psql" -X -At -h "$TMP/data/run" -U postgres vaultterm -c \
		"SELECT count(*) FROM audit_log WHERE action = 'SECRET_REVEALED' AND resource_id = '$SECRET_ID'"
}
before=$(reveals)
PGPASSWORD="$APP_PW" "$PGBIN/pgbench" -n -h "$TMP/data/run" -U vaultterm_app -t 1 -c 1 \
	-f "$TMP/reveal.sql" vaultterm >"$TMP/pgb-check.txt" 2>&1 ||
	{ cat "$TMP/pgb-check.txt" >&2; exit 1; }
after=$(reveals)
[ "$after" = $((before + 1)) ] || { echo "bench: the pgbench script wrote no audit row" >&2; exit 1; }

. "$(dirname "$0")/wrk_lib.sh"

# run_wrk CLIENTS SECONDS: sets W_RPS W_P50 W_P99 W_ERR.
run_wrk() {
	local c=$1 d=$2 t out
	t=$((c < 2 ? c : 2))
	out=$(wrk -t"$t" -c"$c" -d"${d}s" --latency -s "$TMP/reveal.lua" \
		"$ADDR/api/vault/secrets/$SECRET_ID/reveal")
	wrk_parse "$out"
}

# run_pgbench CLIENTS SECONDS: sets P_TPS P_P50 P_P99 (latencies from the per-transaction log).
run_pgbench() {
	local c=$1 d=$2 j
	j=$((c < 2 ? c : 2))
	rm -f "$TMP"/pgblog*
	P_TPS=$(cd "$TMP" && PGPASSWORD="$APP_PW" "$PGBIN/pgbench" -n -h "$TMP/data/run" \
		-U vaultterm_app -c "$c" -j "$j" -T "$d" -l --log-prefix=pgblog -f "$TMP/reveal.sql" \
		vaultterm 2>"$TMP/pgb.err" | awk '/^tps/ {printf "%.0f", $3; exit}')
	[ -n "$P_TPS" ] || { cat "$TMP/pgb.err" >&2; exit 1; }
	read -r P_P50 P_P99 < <(cat "$TMP"/pgblog* | awk '{print $3}' | sort -n | awk '
		{ v[NR] = $1 }
		END { i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1;
			if (i99 < 1) i99 = 1; printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
}

cores=$(nproc)
echo "VaultTerm reveal benchmark: $cores cores, $(basename "$BIN") at $BIN, HTTP_THREADS=$HTTP_THREADS, DB_POOL_SIZE=$DB_POOL, ${DURATION}s per run"
echo "(wrk and pgbench use min(clients, 2) threads and share the machine with the server and PostgreSQL;"
echo " load average before: $(cut -d' ' -f1-3 /proc/loadavg) — anything else running skews every figure)"
run_wrk 16 2 # warm-up: connections, caches, the JIT-free plan cache of each pool connection
run_pgbench 16 2

printf '\n%7s | %10s %8s %8s %8s | %10s %8s %8s | %6s  %s\n' clients "reveal/s" "p50 ms" \
	"p99 ms" non-2xx "pgbench/s" "p50 ms" "p99 ms" ratio "targets (ratio ≥ $TARGET_RATIO; p99 < $TARGET_P99_MS ms at 64)"
for c in $CLIENTS; do
	run_wrk "$c" "$DURATION"
	run_pgbench "$c" "$DURATION"
	ratio=$(awk -v a="$W_RPS" -v b="$P_TPS" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
	verdict=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN {
		if (r >= t) print "ratio met"; else printf "ratio MISSED by %.0f%%", (t - r) / t * 100 }')
	if [ "$c" = 64 ]; then
		verdict="$verdict, $(awk -v p="$W_P99" -v t="$TARGET_P99_MS" 'BEGIN {
			if (p < t) print "p99 met"; else printf "p99 MISSED (%.1f× the target)", p / t }')"
	fi
	printf '%7s | %10s %8s %8s %8s | %10s %8s %8s | %6s  %s\n' "$c" "$W_RPS" "$W_P50" "$W_P99" \
		"$W_ERR" "$P_TPS" "$P_P50" "$P_P99" "$ratio" "$verdict"
done

# ---- seal/open of 1 KiB records against raw AES-256-GCM -------------------------------------------
"$ENVBENCH" "$SEAL_SECONDS" 1024 >"$TMP/env.txt"
seal=$(awk '$1 == "seal" {print $2}' "$TMP/env.txt")
open_r=$(awk '$1 == "open" {print $2}' "$TMP/env.txt")
pair=$(awk '$1 == "seal+open" {print $2}' "$TMP/env.txt")
# openssl speed: "AES-256-GCM  <1000s of bytes per second>k" for 1024-byte blocks.
ossl_ops() {
	openssl speed "$@" -evp aes-256-gcm -bytes 1024 -seconds "$SEAL_SECONDS" 2>/dev/null |
		awk '/^AES-256-GCM/ {v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1024}'
}
enc=$(ossl_ops)
dec=$(ossl_ops -decrypt)
echo
echo "1 KiB records, one thread          ops/s    vs openssl speed -evp aes-256-gcm -bytes 1024"
printf '%-30s %10s    %s\n' "envelope_seal" "$seal" \
	"$(awk -v a="$seal" -v b="$enc" 'BEGIN {printf "%.3f of %s ops/s (encrypt)", a / b, b}')"
printf '%-30s %10s    %s\n' "envelope_open" "$open_r" \
	"$(awk -v a="$open_r" -v b="$dec" 'BEGIN {printf "%.3f of %s ops/s (decrypt)", a / b, b}')"
printf '%-30s %10s    %s\n' "seal + open (one record)" "$pair" \
	"$(awk -v a="$pair" -v b="$enc" -v c="$dec" 'BEGIN {printf "%.3f of raw encrypt + decrypt", a * (1 / b + 1 / c)}')"
printf '%-30s %10s    %s\n' "per reveal (one open)" "" \
	"$(awk -v a="$open_r" 'BEGIN {printf "%.1f us of CPU per reveal", 1e6 / a}')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
