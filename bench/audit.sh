#!/usr/bin/env bash
# The tamper-evident audit chain: what it costs and what it gives, with baselines measured in the
# same run.
#
#   bench/audit.sh [path/to/vaultterm]     (make bench builds the release preset first)
#
# (a) Audited-action throughput, chain on vs off: wrk drives POST /api/vault/secrets/{id}/reveal
#     (one SECRET_REVEALED row per request) against a server with AUDIT_SEQUENCER=on (default
#     checkpoint settings), then against a fresh one with AUDIT_SEQUENCER=off (fresh data dir
#     each). Prints req/s, p50, p99 and the ratio on/off (target ≥ 0.90), and how long the chain
#     took to seal the last row after the load.
# (b) Offline verification rate: BENCH_ROWS (200000) rows are inserted into audit_log with SQL as
#     the superuser (org_id, actor_type 'system', action 'BENCH_ROW', outcome 'success', plus a
#     resource, request id and detail so a row is ~200 canonical bytes like a real one), sequenced
#     and sealed by the server (AUDIT_CHECKPOINT_ROWS=1000), exported (GET /api/audit/export) and
#     checked with `vaultterm audit verify`: rows/s and MB/s beside `openssl speed -seconds 3
#     sha256` at 256-byte (a leaf) and 64-byte (an interior node) blocks, and the share of the
#     verifier's time spent in SHA-256, from `perf record` when it works, else estimated as
#     rows × (t256 + t64) / total (the script says which).
# (c) Checkpoint latency over the run of (a): for each row, audit_log.time (its insert, in the
#     request transaction) to created_at of the first checkpoint with size > its index; p50/p99.
# (d) Proof sizes for a log of 10^6 rows, from RFC 6962 PATH/PROOF (an awk calculation): hashes
#     and bytes of inclusion and consistency proofs; cross-checked against the API's proofs on the
#     log of (b).
# Prints figures only; it asserts nothing (speed is measured, not asserted). Knobs: BENCH_DURATION
# (s of load per mode in (a), 15), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16), BENCH_ROWS (200000).
set -euo pipefail

BIN=${1:-./build/release/vaultterm}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DURATION=${BENCH_DURATION:-15}
ROUNDS=${BENCH_ROUNDS:-3}
CONC=${BENCH_CONNECTIONS:-16}
ROWS=${BENCH_ROWS:-200000}
TARGET_RATIO=0.90
TMP=$(mktemp -d /tmp/vt-bench-audit.XXXXXX)
chmod 0711 "$TMP"
PID=""
stop_server() {
	if [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; then
		wait "$PID" 2>/dev/null || true
	fi
	PID=""
}
cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in wrk curl jq openssl awk; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done
PW='correct horse battery staple'
# The offline verifier (a subcommand of the CLI).
VERIFY=("$BIN" audit verify)
if "${VERIFY[@]}" 2>&1 | grep -q 'usage: vaultterm audit <subcommand>' &&
	! "${VERIFY[@]}" 2>&1 | grep -q verify; then
	VERIFY=()
fi

# start_server DATA_DIR [VAR=value ...]: a --dev server on its own cluster; sets PID and ADDR.
start_server() {
	local dir=$1
	shift
	: >"$TMP/server.log"
	env PORT=0 LOG_LEVEL=warn AUTH_RATE_MAX=1000000 "$@" \
		"$BIN" server --dev --data-dir "$dir" >>"$TMP/server.log" 2>&1 &
	PID=$!
	ADDR=""
	for _ in $(seq 1 600); do
		ADDR=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/server.log" | head -n1 || true)
		[ -n "$ADDR" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ADDR" ] || { cat "$TMP/server.log" >&2; exit 1; }
	SUPER_PW=$(grep '^PG_SUPERUSER_PASSWORD=' "$dir/dev-secrets.env" | cut -d= -f2)
	SOCK=$dir/run
}
psql_super() { PGPASSWORD="$SUPER_PW" psql -X -q -At -v ON_ERROR_STOP=1 -h "$SOCK" -U postgres -d vaultterm -c "$1"; }

# setup: a user, a vault and a secret; TOKEN ORG_ID SECRET_ID and the wrk script.
setup() {
	local me vault
	me=$(curl -sf -X POST "$ADDR/api/auth/register" -H 'Content-Type: application/json' \
		-d "$(jq -nc --arg p "$PW" '{email:"bench-audit@example.com",password:$p}')")
	TOKEN=$(jq -r .token <<<"$me")
	ORG_ID=$(jq -r .org.id <<<"$me")
	vault=$(curl -sf -X POST "$ADDR/api/vault/vaults" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' -d '{"name":"bench"}' | jq -r .id)
	SECRET_ID=$(curl -sf -X POST "$ADDR/api/vault/vaults/$vault/secrets" \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d '{"type":"PASSWORD","name":"db","fields":{"password":"7hY#kq2!vL9@xR4$","username":"app"}}' |
		jq -r .id)
	cat >"$TMP/reveal.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"reason":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA
	local got
	got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ADDR/api/vault/secrets/$SECRET_ID/reveal" \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"reason":"bench"}')
	[ "$got" = 200 ] || { echo "bench: a reveal answers $got" >&2; tail -n 20 "$TMP/server.log" >&2; exit 1; }
}

. "$(dirname "$0")/wrk_lib.sh"

# run_wrk SECONDS: sets W_RPS W_P50 W_P99 W_ERR.
run_wrk() {
	local out
	out=$(wrk -t2 -c"$CONC" -d"${1}s" --latency -s "$TMP/reveal.lua" \
		"$ADDR/api/vault/secrets/$SECRET_ID/reveal")
	wrk_parse "$out"
}

# unsealed: rows of ORG_ID not yet covered by a checkpoint (or not yet sequenced).
unsealed() {
	psql_super "SELECT (SELECT count(*) FROM audit_log WHERE org_id = '$ORG_ID')
		- coalesce((SELECT checkpoint_size FROM audit_log_state WHERE org_id = '$ORG_ID'), 0)"
}
# wait_sealed TIMEOUT_S: prints the seconds it took (or "timeout").
wait_sealed() {
	local t0 i
	t0=$(date +%s.%N)
	for i in $(seq 1 $(($1 * 10))); do
		if [ "$(unsealed)" = 0 ]; then
			awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'
			return 0
		fi
		sleep 0.1
	done
	echo timeout
}

echo "VaultTerm audit chain benchmark: $(nproc) cores, $BIN, wrk -t2 -c$CONC, ${DURATION}s per mode in $ROUNDS rounds"
echo "(load average before: $(cut -d' ' -f1-3 /proc/loadavg); anything else running skews every figure)"

# ---- (a) throughput, chain on vs off ----------------------------------------------------------------
# Two servers on fresh clusters, one with the chain on, one with it off, measured in alternating
# rounds (on, off, on, off, ...; each server stopped while the other runs, so the chain's
# background work cannot slow the other's run, and a change in the machine's load hits both).

ROUND_S=$(((DURATION + ROUNDS - 1) / ROUNDS))
ON_DIR=$TMP/on
OFF_DIR=$TMP/off
declare -A S_TOKEN S_ORG S_SECRET
# mode_start MODE: (re)starts the server of MODE, first time with its fixtures.
mode_start() {
	if [ "$1" = on ]; then
		start_server "$ON_DIR" AUDIT_SEQUENCER=on AUDIT_CHECKPOINT_ROWS=1000
	else
		start_server "$OFF_DIR" AUDIT_SEQUENCER=off
	fi
	if [ -z "${S_TOKEN[$1]:-}" ]; then
		setup
		S_TOKEN[$1]=$TOKEN S_ORG[$1]=$ORG_ID S_SECRET[$1]=$SECRET_ID
	fi
	TOKEN=${S_TOKEN[$1]} ORG_ID=${S_ORG[$1]} SECRET_ID=${S_SECRET[$1]}
	sed -i "s|Bearer .*\"|Bearer $TOKEN\"|" "$TMP/reveal.lua"
}
declare -A REQS LAT50 LAT99 ERRS
for m in on off; do REQS[$m]=0 ERRS[$m]=0 LAT50[$m]="" LAT99[$m]=""; done
RUN_START=""
echo
echo "(a) audited-action throughput: POST /api/vault/secrets/{id}/reveal, one SECRET_REVEALED row each"
printf '  %-8s %-5s %10s %8s %8s %8s  %s\n' round chain "req/s" "p50 ms" "p99 ms" errors "load avg (1 min)"
for r in $(seq 1 "$ROUNDS"); do
	for m in on off; do
		mode_start $m
		run_wrk 1 # warm-up: connections, plan caches
		[ $m = on ] && [ -z "$RUN_START" ] && RUN_START=$(psql_super "SELECT clock_timestamp()")
		run_wrk "$ROUND_S"
		printf '  %-8s %-5s %10s %8s %8s %8s  %s\n' "$r/$ROUNDS" $m "$W_RPS" "$W_P50" "$W_P99" "$W_ERR" \
			"$(cut -d' ' -f1 /proc/loadavg)"
		REQS[$m]=$((REQS[$m] + W_RPS * ROUND_S))
		ERRS[$m]=$((ERRS[$m] + W_ERR))
		LAT50[$m]+="$W_P50 " LAT99[$m]+="$W_P99 "
		if [ $m = on ]; then
			ON_SEAL=$(wait_sealed 60)
		else
			OFF_INDEXED=$(psql_super "SELECT count(*) FROM audit_index")
		fi
		if [ $m = on ] && [ "$r" = "$ROUNDS" ]; then
			ON_ROWS=$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG_ID' AND time >= '$RUN_START'")
			read -r C_N C_P50 C_P99 C_MAX C_CPS < <(psql_super "
				SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
					round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
					round(max(ms)::numeric, 1),
					(SELECT count(*) FROM audit_checkpoints WHERE org_id = '$ORG_ID'
						AND created_at >= '$RUN_START')
				FROM (SELECT extract(epoch FROM c.created_at - l.time) * 1000 AS ms
					FROM audit_log l JOIN audit_index i ON i.audit_id = l.id
					CROSS JOIN LATERAL (SELECT created_at FROM audit_checkpoints c
						WHERE c.org_id = i.org_id AND c.size > i.idx ORDER BY c.size LIMIT 1) c
					WHERE l.org_id = '$ORG_ID' AND l.time >= '$RUN_START') t" | tr '|' ' ')
		fi
		stop_server
	done
done
rm -rf "$OFF_DIR"
# mean of per-round latency figures
mean() { awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", NF ? s / NF : 0}' <<<"$1"; }
RPS_ON=$((REQS[on] / (ROUNDS * ROUND_S)))
RPS_OFF=$((REQS[off] / (ROUNDS * ROUND_S)))
RATIO=$(awk -v a="$RPS_ON" -v b="$RPS_OFF" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
printf '  %-14s %10s %8s %8s %8s  %s\n' "chain on" "$RPS_ON" "$(mean "${LAT50[on]}")" \
	"$(mean "${LAT99[on]}")" "${ERRS[on]}" "$ON_ROWS rows in the log; the last sealed ${ON_SEAL} s after the load"
printf '  %-14s %10s %8s %8s %8s  %s\n' "chain off" "$RPS_OFF" "$(mean "${LAT50[off]}")" \
	"$(mean "${LAT99[off]}")" "${ERRS[off]}" "$OFF_INDEXED rows indexed (AUDIT_SEQUENCER=off: expected 0)"
printf '  %-14s %10s  %s\n' "ratio on/off" "$RATIO" "$(awk -v r="$RATIO" -v t="$TARGET_RATIO" 'BEGIN {
	if (r >= t) printf "target ≥ %.2f met", t; else printf "target ≥ %.2f MISSED by %.0f%%", t, (t - r) / t * 100 }')"
echo "  (all rounds: req/s = requests / time; p50/p99 = mean of the rounds' figures)"

echo
echo "(c) checkpoint latency during (a): row insert (audit_log.time) → first checkpoint covering it"
printf '  %-26s %10s %8s %8s %8s  %s\n' "" rows "p50 ms" "p99 ms" "max ms" checkpoints
printf '  %-26s %10s %8s %8s %8s  %s\n' "default settings" "$C_N" "$C_P50" "$C_P99" "$C_MAX" \
	"$C_CPS (AUDIT_CHECKPOINT_INTERVAL_MS 1000, AUDIT_CHECKPOINT_ROWS 1000)"

# ---- (b) offline verification of a large bundle ---------------------------------------------------------
# The server of (a) again, without the background re-verification (it would compete for the CPU
# with the verifier being timed).
start_server "$ON_DIR" AUDIT_SEQUENCER=on AUDIT_CHECKPOINT_ROWS=1000 AUDIT_VERIFY_INTERVAL_MS=0
TOKEN=${S_TOKEN[on]} ORG_ID=${S_ORG[on]}
T0=$(date +%s.%N)
psql_super "INSERT INTO audit_log (id, org_id, actor_type, action, resource_type, resource_id,
		outcome, source_ip, request_id, detail)
	SELECT gen_random_uuid(), '$ORG_ID', 'system', 'BENCH_ROW', 'secret', gen_random_uuid()::text,
		'success', '127.0.0.1', md5(g::text), '{\"n\":' || g || ',\"reason\":\"bench\"}'
	FROM generate_series(1, $ROWS) AS g"
T1=$(date +%s.%N)
SEAL_S=$(wait_sealed 300)
N=$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$ORG_ID'")
M=$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$ORG_ID'")
T2=$(date +%s.%N)
curl -sf --max-time 600 -H "Authorization: Bearer $TOKEN" "$ADDR/api/audit/export" -o "$TMP/bundle"
T3=$(date +%s.%N)
KEY=$(curl -sf -H "Authorization: Bearer $TOKEN" "$ADDR/api/audit/public-key" | jq -r .public_key)
BYTES=$(stat -c %s "$TMP/bundle")
MB=$(awk -v b="$BYTES" 'BEGIN {printf "%.1f", b / 1e6}')

# openssl: 1000s of bytes per second, one thread.
ossl_kbs() { openssl speed -seconds 3 -bytes "$1" sha256 2>/dev/null | awk '/^sha256/ {v = $NF; sub(/k$/, "", v); print v}'; }
K256=$(ossl_kbs 256)
K64=$(ossl_kbs 64)
H256=$(awk -v k="$K256" 'BEGIN {printf "%.0f", k * 1000 / 256}') # hashes/s
H64=$(awk -v k="$K64" 'BEGIN {printf "%.0f", k * 1000 / 64}')

echo
echo "(b) offline verification: $ROWS rows inserted by SQL in $(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}') s," \
	"sequenced and sealed in $SEAL_S s ($(awk -v n="$ROWS" -v s="$SEAL_S" 'BEGIN {if (s + 0 > 0) printf "%.0f rows/s", n / s; else print "?"}'))," \
	"exported in $(awk -v a="$T2" -v b="$T3" 'BEGIN {printf "%.1f", b - a}') s"
echo "  bundle: $N rows, $M checkpoints, $MB MB ($(awk -v b="$BYTES" -v n="$N" 'BEGIN {printf "%.0f", b / n}') bytes/row)"
if [ ${#VERIFY[@]} -eq 0 ]; then
	echo "  vaultterm audit verify: not available in this build (no \`audit verify\` subcommand): skipped"
else
	# Three runs; the median wall-clock time, and the CPU time (user + sys) of that run, which the
	# machine's other load does not inflate.
	for i in 1 2 3; do
		V0=$(date +%s.%N)
		if [ -x /usr/bin/time ]; then
			/usr/bin/time -f '%U %S' -o "$TMP/vtime" "${VERIFY[@]}" "$TMP/bundle" \
				--public-key "$KEY" >"$TMP/vout" 2>&1 || true
		else
			"${VERIFY[@]}" "$TMP/bundle" --public-key "$KEY" >"$TMP/vout" 2>&1 || true
			echo "? ?" >"$TMP/vtime"
		fi
		V1=$(date +%s.%N)
		echo "$(awk -v a="$V0" -v b="$V1" 'BEGIN {printf "%.3f", b - a}') $(awk '{printf "%.3f", $1 + $2}' "$TMP/vtime" 2>/dev/null || echo '?')"
	done | sort -n >"$TMP/vruns"
	read -r VS VCPU < <(sed -n 2p "$TMP/vruns")
	echo "  verify says: $(head -n1 "$TMP/vout")"
	rate() { awk -v n="$1" -v t="$2" -v d="$3" 'BEGIN {if (t + 0 > 0) printf "%.*f", d, n / t; else printf "?"}'; }
	printf '  %-38s %12s %10s\n' "" "rows/s" "MB/s"
	printf '  %-38s %12s %10s  %s\n' "vaultterm audit verify, wall clock" "$(rate "$N" "$VS" 0)" \
		"$(rate "$((BYTES / 1000))" "$(awk -v t="$VS" 'BEGIN {print t * 1000}')" 1)" "$VS s (median of 3), one thread"
	printf '  %-38s %12s %10s  %s\n' "vaultterm audit verify, CPU time" "$(rate "$N" "$VCPU" 0)" \
		"$(rate "$((BYTES / 1000))" "$(awk -v t="$VCPU" 'BEGIN {print t * 1000}')" 1)" "$VCPU s user + sys"
	printf '  %-38s %12s %10s  %s\n' "openssl speed sha256, 256 B blocks" "$H256" \
		"$(awk -v k="$K256" 'BEGIN {printf "%.1f", k / 1000}')" "hashes/s (a leaf: 1 + ~200 B)"
	printf '  %-38s %12s %10s  %s\n' "openssl speed sha256, 64 B blocks" "$H64" \
		"$(awk -v k="$K64" 'BEGIN {printf "%.1f", k / 1000}')" "hashes/s (an interior node: 65 B)"
	# One leaf hash and, amortized, one interior node per row.
	T_CPU=$VCPU
	[ "$T_CPU" = "?" ] && T_CPU=$VS
	EST=$(awk -v n="$N" -v t="$T_CPU" -v a="$H256" -v b="$H64" 'BEGIN {printf "%.0f", 100 * n * (1 / a + 1 / b) / t}')
	HS=""
	if command -v perf >/dev/null &&
		perf record -q --call-graph dwarf -F 1999 -o "$TMP/perf.data" -- "${VERIFY[@]}" "$TMP/bundle" \
			--public-key "$KEY" >/dev/null 2>"$TMP/perf.err"; then
		# Inclusive ("children") share of each symbol.
		perf report -i "$TMP/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
			awk '$1 ~ /%$/ && $3 == "[.]" {sub(/%$/, "", $1); sub(/%$/, "", $2); print $4, $1, $2}' \
			>"$TMP/perf.txt" || true
		pct() { awk -v s="$1" '$1 == s {print $2; f = 1; exit} END {if (!f) print 0}' "$TMP/perf.txt"; }
		HS=$(pct hash_sha256)
	fi
	if [ -n "$HS" ] && [ "$HS" != 0 ]; then
		echo "  share of the verifier's time in SHA-256, perf record --call-graph (inclusive):"
		printf '    %-50s %6s%%\n' "hash_sha256 (OpenSSL one-shot SHA256())" "$HS" \
			"  of which EVP_MD_fetch (implicit fetch per call)" "$(pct EVP_MD_fetch)" \
			"  of which SHA256_Update + SHA256_Final" \
			"$(awk -v a="$(pct SHA256_Update)" -v b="$(pct SHA256_Final)" 'BEGIN {printf "%.2f", a + b}')" \
			"base64 decoding (b64_decode_public)" "$(pct b64_decode_public)" \
			"constant-time compares (sodium_memcmp)" "$(pct sodium_memcmp)"
		echo "    (estimate for comparison: rows × (t256 + t64 from openssl) / CPU time = $EST%)"
	else
		echo "  share of the verifier's time in SHA-256: ~$EST% (estimated: rows × (t256 + t64 from" \
			"openssl speed) / CPU time; perf not usable here)"
	fi
fi

# ---- (d) proof sizes ---------------------------------------------------------------------------------
# RFC 6962 §2.1.1 PATH(m, D[n]) and §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), counting hashes.
proofcalc() {
	awk -v mode="$1" -v n="$2" -v m="${3:-0}" '
	function k_of(n,  k) { k = 1; while (k * 2 < n) k *= 2; return k }
	function log2(k,  j) { j = 0; while (k > 1) { k /= 2; j++ } return j }
	function path(m, n,  k) { if (n <= 1) return 0; k = k_of(n)
		return m < k ? 1 + path(m, k) : 1 + path(m - k, n - k) }
	function subproof(m, n, b,  k) { if (m == n) return b ? 0 : 1; k = k_of(n)
		return m <= k ? 1 + subproof(m, k, b) : 1 + subproof(m - k, n - k, 0) }
	BEGIN {
		if (mode == "inclusion") print path(m, n)
		else if (mode == "consistency") print subproof(m, n, 1)
		else if (mode == "inclusion-stats") {
			# every leaf of a perfect left subtree of 2^j leaves has a path of depth + j hashes
			min = 99; max = 0; sum = 0; d = 0; r = n
			while (r > 1) { k = k_of(r); j = d + 1 + log2(k); sum += k * j
				if (j < min) min = j; if (j > max) max = j; r -= k; d++ }
			if (r == 1) { if (d < min) min = d; if (d > max) max = d; sum += d }
			printf "%d %d %.2f\n", min, max, sum / n
		} else if (mode == "consistency-stats") {
			min = 999; max = 0; sum = 0; c = 0
			for (x = 1; x < n; x += 7) { p = subproof(x, n, 1); sum += p; c++
				if (p < min) min = p; if (p > max) max = p }
			printf "%d %d %.2f\n", min, max, sum / c
		} }'
}
BIG=1000000
read -r IMIN IMAX IAVG < <(proofcalc inclusion-stats $BIG)
read -r CMIN CMAX CAVG < <(proofcalc consistency-stats $BIG)
C1K=$(proofcalc consistency $BIG $((BIG - 1000)) )
CHALF=$(proofcalc consistency $BIG $((BIG / 2)))
# bytes: raw 32 per hash; in the API's JSON, "<64 hex>" and a comma per hash
bytes() { awk -v h="$1" 'BEGIN {printf "%.0f B raw, %.0f B as API JSON hex", h * 32, h * 67}'; }
echo
echo "(d) proof sizes for a log of 10^6 rows (RFC 6962, computed)"
printf '  %-46s %9s  %s\n' "" hashes bytes
printf '  %-46s %9s  %s\n' "inclusion proof, min / max over the leaves" "$IMIN / $IMAX" "$(bytes "$IMAX") at most"
printf '  %-46s %9s  %s\n' "inclusion proof, mean over all 10^6 leaves" "$IAVG" "$(bytes "$IAVG")"
printf '  %-46s %9s  %s\n' "consistency 999000 -> 10^6 (a 1000-row step)" "$C1K" "$(bytes "$C1K")"
printf '  %-46s %9s  %s\n' "consistency 500000 -> 10^6" "$CHALF" "$(bytes "$CHALF")"
printf '  %-46s %9s  %s\n' "consistency m -> 10^6, min / max (every 7th m)" "$CMIN / $CMAX" "$(bytes "$CMAX") at most; mean $CAVG hashes"
# The same calculation against the API on the log of (b).
if [ -n "${N:-}" ] && [ "$N" -gt 1 ]; then
	api_len() { curl -sf -H "Authorization: Bearer $TOKEN" "$ADDR$1" | jq '.path | length'; }
	P0=$(date +%s.%N)
	A_FIRST=$(api_len "/api/audit/proof/inclusion?index=0&size=$N")
	P1=$(date +%s.%N)
	A_LAST=$(api_len "/api/audit/proof/inclusion?index=$((N - 1))&size=$N")
	read -r CPREV CLAST <<<"$(psql_super "SELECT size FROM audit_checkpoints WHERE org_id = '$ORG_ID'
		ORDER BY size DESC LIMIT 2" | sort -n | tr '\n' ' ')"
	A_CONS=$(api_len "/api/audit/proof/consistency?from=$CPREV&to=$CLAST")
	E_FIRST=$(proofcalc inclusion "$N" 0)
	E_LAST=$(proofcalc inclusion "$N" $((N - 1)))
	E_CONS=$(proofcalc consistency "$CLAST" "$CPREV")
	echo "  cross-check on the log of (b), $N rows (the API builds each proof from the $N stored leaf hashes:" \
		"$(awk -v a="$P0" -v b="$P1" 'BEGIN {printf "%.0f", (b - a) * 1000}') ms for one):"
	for x in "inclusion of leaf 0|$A_FIRST|$E_FIRST" "inclusion of leaf $((N - 1))|$A_LAST|$E_LAST" \
		"consistency $CPREV -> $CLAST|$A_CONS|$E_CONS"; do
		IFS='|' read -r what got want <<<"$x"
		printf '    %-44s API %3s hashes, calculation %3s  %s\n' "$what" "$got" "$want" \
			"$([ "$got" = "$want" ] && echo agree || echo DISAGREE)"
	done
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
