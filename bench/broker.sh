#!/usr/bin/env bash
# The SSH broker against plain OpenSSH, side by side in one run (issue 6, "Measure it"):
#
#   bench/broker.sh [path/to/vaultterm]     (a release build: cmake --preset release)
#
# One real sshd is the target (tests/integration/sshd_lib.sh: its own config, host keys and two
# fresh accounts); a second sshd is an OpenSSH bastion allowed to forward only to the target. The
# same client (OpenSSH ssh, Ed25519 keys, default ciphers: chacha20-poly1305 everywhere) reaches
# the same account on the target three ways:
#   direct   ssh -p <target> user@127.0.0.1
#   bastion  ssh -J jump -p <target> user@127.0.0.1       (OpenSSH ProxyJump: the inner session is
#            end to end, the bastion relays it inside its own encrypted channel)
#   broker   ssh -p <broker> t-ed25519@127.0.0.1          (VaultTerm: the key from the vault,
#            every output byte scanned with the org's fingerprints and recorded, encrypted, in
#            the database — the org's default, recording on)
#
# 1. Throughput: BENCH_SIZE_MIB (1024) of data through each path, down (a remote `cat` of a file
#    into the client, counted by wc -c: the direction that is scanned and recorded) and up (the
#    client's file into a remote `wc -c`); the median of BENCH_RUNS (3) runs, MiB/s, and
#    the CPU seconds per run of the server process (vt s) and of PostgreSQL (db s, the cluster's
#    processes). A fourth row, broker-norec, is the broker with the org's recording off (scanning
#    still on): it shows what the recording costs, and is not a target. The data is
#    BENCH_DATA=text (base64 lines of random bytes: printable but incompressible, the worst case
#    for the recording), terminal (ordinary terminal output from tests/scan/gen_corpus.py
#    --no-secrets: prompts, env dumps, logs, kubectl, git; ~20 s of Python per GiB to make) or
#    random (raw bytes). BENCH_CLIENT_REKEY sets every client's RekeyLimit (default: OpenSSH's,
#    a key re-exchange about every GiB).
# 2. Connect latency: the median and p90 of BENCH_CONNECTS (20) runs of `ssh ... true` (connect,
#    authenticate, run a command, exit) and of the time from starting `ssh -tt` to the remote
#    shell's first prompt. OpenSSH 9 picks the post-quantum sntrup761x25519 key exchange where
#    both ends offer it (direct, bastion); the broker offers curve25519 only, so direct-x25519
#    (the same target with curve25519-sha256) is shown too, and the overhead is given over both.
# 3. Memory: the server's VmRSS with BENCH_IDLE (100) idle sessions (`sleep`) open through the
#    broker, less its VmRSS before, per session.
# BENCH_SECRETS=N (default 0) first stores N PASSWORD secrets (random 40-byte values) in the
# sessions' org through the API, so every session scans with a fingerprint set of N values; the
# table then also gives the median latency of POST /api/vault/scan in that org.
#
# Targets (issue): broker ≥ 0.7 × direct throughput, connect overhead ≤ 30 ms over direct,
# ≤ 1 MiB per idle session. Everything runs on this machine (2 cores shared by the client, both
# sshds, the server and PostgreSQL): the figures are for that, side by side. It prints figures
# and whether each target is met, and asserts nothing. Not part of `make test`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-./build/release/vaultterm}
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build the release preset)" >&2; exit 1; }
VAULTTERM_BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
export VAULTTERM_BIN
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
RUNS=${BENCH_RUNS:-3}
CONNECTS=${BENCH_CONNECTS:-20}
IDLE=${BENCH_IDLE:-100}
SECRETS=${BENCH_SECRETS:-0}
DATA=${BENCH_DATA:-text}
case $DATA in text | terminal | random) ;; *) echo "bench: BENCH_DATA must be text, terminal or random" >&2; exit 2 ;; esac
# RekeyLimit for every client (default: OpenSSH's, a key re-exchange every ~1 GiB with chacha20).
REKEY=${BENCH_CLIENT_REKEY:-default}
TARGET_RATIO=0.7
TARGET_OVERHEAD_MS=30
TARGET_RSS_KIB=1024

for t in python3 wc awk sort; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done
if grep -q 'VT_SANITIZE:BOOL=ON' "$(dirname "$VAULTTERM_BIN")/CMakeCache.txt" 2>/dev/null; then
	echo "bench: warning: $BIN is a sanitizer build; the figures mean little" >&2
fi

. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/vault_lib.sh"
. "$HERE/../tests/integration/sshd_lib.sh"
. "$HERE/../tests/integration/broker_lib.sh"

IDLE_PIDS=()
bench_cleanup() {
	local p
	for p in "${IDLE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${IDLE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
# before sshd_lib's and lib.sh's cleanup
BENCH_PREV_TRAP=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; set +e; bench_cleanup; (exit $rc); eval "$BENCH_PREV_TRAP"' EXIT

echo "bench: starting the target, the bastion and the server ($DATA data, $SIZE_MIB MiB," \
	"$RUNS runs)" >&2
sshd_start
sshd_start jump "AllowTcpForwarding local" "PermitOpen 127.0.0.1:$SSHD_PORT"
vt_start # (at info: vt_start reads the listening lines from the log)
broker_world >/dev/null
[ "$VT_FAILS" -eq 0 ] || { echo "bench: setting up the broker failed" >&2; exit 1; }
if [ "$SECRETS" -gt 0 ]; then
	echo "bench: storing $SECRETS secrets in the org through the API (4 requests at a time)" >&2
	python3 - "$VT_ADDR" "$A_JWT" "$VAULT" "$SECRETS" <<'PY' || exit 1
import concurrent.futures, json, os, sys, urllib.request
addr, jwt, vault, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def one(i):
    body = json.dumps({"type": "PASSWORD", "name": "bench-%d" % i,
                       "fields": {"password": os.urandom(20).hex()}}).encode()
    req = urllib.request.Request(addr + "/api/vault/vaults/" + vault + "/secrets", data=body,
                                 method="POST", headers={"Authorization": "Bearer " + jwt,
                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status
with concurrent.futures.ThreadPoolExecutor(4) as ex:
    bad = [s for s in ex.map(one, range(n)) if s != 201]
if bad:
    sys.exit("bench: %d secret writes failed" % len(bad))
PY
	FP_ROWS=$(psql_super "SELECT count(*) FROM secret_fingerprints WHERE org_id = '$A_ORG'")
fi

# The client config for the bastion path: -J jump needs the jump host's key and options.
cat >"$VT_CLIENT/jump.config" <<EOF
Host jump
	HostName 127.0.0.1
	Port ${SSHD_PORTS[jump]}
	User $SSHD_KEY_USER
	IdentityFile $SSHD_KEYS/ed25519
Host *
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking no
	LogLevel ERROR
	BatchMode yes
	RekeyLimit $REKEY
EOF

# via PATH ARGS...: ssh to the key account on the target along PATH (direct, bastion, broker).
via() {
	local path=$1
	shift
	case $path in
	direct) ssh -o RekeyLimit="$REKEY" "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes \
		-i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" "$SSHD_KEY_USER@127.0.0.1" "$@" ;;
	direct-x25519) ssh -o KexAlgorithms=curve25519-sha256 "${SSH_CLIENT_OPTS[@]}" \
		-o BatchMode=yes -i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" "$SSHD_KEY_USER@127.0.0.1" "$@" ;;
	bastion) ssh -F "$VT_CLIENT/jump.config" -J jump -i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" \
		"$SSHD_KEY_USER@127.0.0.1" "$@" ;;
	broker | broker-norec) ssh -o RekeyLimit="$REKEY" "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes -i "$BOB_KEY" \
		-p "$VT_SSH_PORT" t-ed25519@127.0.0.1 "$@" ;;
	esac
}
# recording ON|OFF: the org's RECORDING_ENABLED (broker-norec is the broker with it off: where the
# time goes, not a target).
recording() {
	api PATCH /api/orgs/current "{\"recording_enabled\":$1}" "$A_JWT"
	[ "$STATUS" = 200 ] || { echo "bench: recording_enabled=$1: HTTP $STATUS $BODY" >&2; exit 1; }
}
PATHS="direct bastion broker"
for p in $PATHS; do
	out=$(via "$p" 'id -un' </dev/null 2>&1) || true
	[ "$out" = "$SSHD_KEY_USER" ] || { echo "bench: the $p path does not work: $out" >&2; exit 1; }
done

now() { printf '%s' "$EPOCHREALTIME"; }
# cpu_s PID: the process's user + system CPU seconds.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# all_cpu_s: CPU seconds the whole machine has been busy (user, nice, system, irq, softirq): the
# client, the sshds, the server and PostgreSQL together (and anything else running: keep it quiet).
all_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {print ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat; }
# db_cpu_s: the PostgreSQL cluster's CPU seconds (postmaster, its children, and those reaped).
PGMASTER=$(head -n1 "$VT_DATA/pg/postmaster.pid")
db_cpu_s() {
	local p t=0
	for p in $(pgrep -P "$PGMASTER"); do
		t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat" \
			2>/dev/null || echo "$t")
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15 + $16 + $17) / hz}' \
		"/proc/$PGMASTER/stat"
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
p90() { sort -g | awk '{v[NR] = $1} END {i = int(NR * 0.9 + 0.999); if (i < 1) i = 1; print v[i]}'; }

# ---- 1. throughput ---------------------------------------------------------------------------
echo "bench: making $SIZE_MIB MiB of $DATA data" >&2
BIG="$VT_TMP/big"
if [ "$DATA" = random ]; then
	head -c "${SIZE_MIB}M" /dev/urandom >"$BIG"
elif [ "$DATA" = terminal ]; then
	python3 "$HERE/../tests/scan/gen_corpus.py" --seed 20240304 --size "${SIZE_MIB}M" \
		--no-secrets -o "$BIG"
else
	head -c $((SIZE_MIB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$BIG.b64"
	head -c "${SIZE_MIB}M" "$BIG.b64" >"$BIG"
	rm -f "$BIG.b64"
fi
BYTES=$(stat -c %s "$BIG")
home=$(getent passwd "$SSHD_KEY_USER" | cut -d: -f6)
install -o "$SSHD_KEY_USER" -m 0644 "$BIG" "$home/big"

# A failed transfer (the session dropped, bytes missing) is reported in the table, not hidden: the
# path's figure becomes "FAILED" and its other runs are skipped.
declare -A DOWN UP CPU_DOWN CPU_UP DB_DOWN DB_UP ALL_DOWN ALL_UP
FAILURES=()
# timed RESULT_VAR PATH DIRECTION: one run; appends MiB/s to the array RESULT_VAR, or returns 1.
timed() {
	local -n res=$1
	local p=$2 dir=$3 t0 t1 st n
	t0=$(now)
	set +e
	if [ "$dir" = down ]; then
		via "$p" 'cat big' </dev/null 2>"$VT_TMP/via.err" | wc -c >"$VT_TMP/n"
		st=$?
	else
		via "$p" 'wc -c' <"$BIG" >"$VT_TMP/n" 2>"$VT_TMP/via.err"
		st=$?
	fi
	set -e
	t1=$(now)
	n=$(tr -d ' \n' <"$VT_TMP/n")
	if [ "$st" -ne 0 ] || [ "$n" != "$BYTES" ]; then
		FAILURES+=("$p $dir: $n of $BYTES bytes, ssh exit $st $(tr '\n' ' ' <"$VT_TMP/via.err")")
		echo "bench: ${FAILURES[-1]}" >&2
		return 1
	fi
	res+=("$(awk -v b="$BYTES" -v a="$t0" -v z="$t1" 'BEGIN {printf "%.1f", b / 1048576 / (z - a)}')")
}
# per_run A B: CPU seconds per run between two readings.
per_run() { awk -v a="$1" -v b="$2" -v r="$RUNS" 'BEGIN {printf "%.2f", (b - a) / r}'; }
for p in $PATHS broker-norec; do
	down=() up=()
	[ "$p" = broker-norec ] && recording false
	c0=$(cpu_s "$VT_PID") d0=$(db_cpu_s) a0=$(all_cpu_s)
	for r in $(seq 1 "$RUNS"); do
		echo "bench: $p down, run $r" >&2
		timed down "$p" down || { down=(); break; }
	done
	c1=$(cpu_s "$VT_PID") d1=$(db_cpu_s) a1=$(all_cpu_s)
	for r in $(seq 1 "$RUNS"); do
		echo "bench: $p up, run $r" >&2
		timed up "$p" up || { up=(); break; }
	done
	c2=$(cpu_s "$VT_PID") d2=$(db_cpu_s) a2=$(all_cpu_s)
	[ "$p" = broker-norec ] && recording true
	DOWN[$p]=FAILED UP[$p]=FAILED
	[ "${#down[@]}" -gt 0 ] && DOWN[$p]=$(printf '%s\n' "${down[@]}" | median)
	[ "${#up[@]}" -gt 0 ] && UP[$p]=$(printf '%s\n' "${up[@]}" | median)
	CPU_DOWN[$p]=$(per_run "$c0" "$c1") DB_DOWN[$p]=$(per_run "$d0" "$d1")
	CPU_UP[$p]=$(per_run "$c1" "$c2") DB_UP[$p]=$(per_run "$d1" "$d2")
	ALL_DOWN[$p]=$(per_run "$a0" "$a1") ALL_UP[$p]=$(per_run "$a1" "$a2")
done
rm -f "$BIG" "$home/big"
REC_BYTES=$(psql_super "SELECT coalesce(sum(length(envelope)), 0) FROM recording_chunks")
REC_SESSIONS=$(psql_super "SELECT count(*) FROM terminal_sessions WHERE recorded")
# Chunk rows written and rewritten (provisional chunks are rewritten in place): a rewrite costs
# the database a whole chunk again.
REC_WRITES=$(psql_super "SELECT n_tup_ins || ' rows inserted, ' || n_tup_upd || ' rewritten' FROM
	pg_stat_all_tables WHERE relname = 'recording_chunks'")

# ---- 2. connect latency ----------------------------------------------------------------------
cat >"$VT_TMP/prompt.py" <<'EOF'
# prompt.py CMD...: seconds from starting CMD on a new PTY to the remote shell's first prompt
# ("$ " from the account's bash), then "exit".
import os, pty, sys, time, select
t0 = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
buf, t = b"", None
while time.monotonic() - t0 < 30:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        d = os.read(fd, 4096)
    except OSError:
        break
    if not d:
        break
    buf += d
    if b"$ " in buf:
        t = time.monotonic() - t0
        os.write(fd, b"exit\n")
        break
while True:
    try:
        if not os.read(fd, 4096):
            break
    except OSError:
        break
os.waitpid(pid, 0)
print("%.4f" % t if t is not None else "nan")
EOF
# via_cmd PATH: the ssh command line of via() for a PTY (prompt.py runs it).
via_cmd() {
	case $1 in
	direct) VIA=(ssh "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes -i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" \
		-tt "$SSHD_KEY_USER@127.0.0.1") ;;
	direct-x25519) VIA=(ssh -o KexAlgorithms=curve25519-sha256 "${SSH_CLIENT_OPTS[@]}" \
		-o BatchMode=yes -i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" -tt "$SSHD_KEY_USER@127.0.0.1") ;;
	bastion) VIA=(ssh -F "$VT_CLIENT/jump.config" -J jump -i "$SSHD_KEYS/ed25519" -p "$SSHD_PORT" \
		-tt "$SSHD_KEY_USER@127.0.0.1") ;;
	broker) VIA=(ssh "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes -i "$BOB_KEY" -p "$VT_SSH_PORT" -tt \
		t-ed25519@127.0.0.1) ;;
	esac
}
declare -A T_MED T_P90 P_MED P_P90
LAT_PATHS="direct direct-x25519 bastion broker"
for p in $LAT_PATHS; do
	echo "bench: $p connect latency ($CONNECTS runs)" >&2
	via "$p" true </dev/null # warm
	ts=() ps=()
	for _ in $(seq 1 "$CONNECTS"); do
		t0=$(now)
		via "$p" true </dev/null
		t1=$(now)
		ts+=("$(awk -v a="$t0" -v z="$t1" 'BEGIN {printf "%.2f", (z - a) * 1000}')")
		via_cmd "$p"
		ps+=("$(python3 "$VT_TMP/prompt.py" "${VIA[@]}" | awk '{printf "%.2f", $1 * 1000}')")
	done
	T_MED[$p]=$(printf '%s\n' "${ts[@]}" | median)
	T_P90[$p]=$(printf '%s\n' "${ts[@]}" | p90)
	P_MED[$p]=$(printf '%s\n' "${ps[@]}" | median)
	P_P90[$p]=$(printf '%s\n' "${ps[@]}" | p90)
done

# ---- 3. memory per idle session ----------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$VT_PID/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$VT_PID/status"; }
idle_sleeps() { pgrep -u "$SSHD_KEY_USER" -x sleep | wc -l; }
# api_ms: median milliseconds of 20 authenticated API requests (each reads the database).
api_ms() {
	local i
	for i in $(seq 1 20); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $A_JWT" \
			"$VT_ADDR/api/auth/me"
	done | awk '{printf "%.2f\n", $1 * 1000}' | median
}
echo "bench: opening $IDLE idle sessions through the broker" >&2
for _ in 1 2 3; do via broker 'sleep 0.1' </dev/null; done
sleep 1
RSS0=$(rss_kib) THR0=$(threads)
API0=$(api_ms)
for i in $(seq 1 "$IDLE"); do
	via broker 'exec sleep 3600' </dev/null >/dev/null 2>&1 &
	IDLE_PIDS+=($!)
	# a few at a time: the broker's database pool serves session starts in turn
	if [ $((i % 10)) -eq 0 ]; then
		for _ in $(seq 1 300); do
			[ "$(idle_sleeps)" -ge "$i" ] && break
			sleep 0.1
		done
	fi
done
for _ in $(seq 1 300); do
	[ "$(idle_sleeps)" -ge "$IDLE" ] && break
	sleep 0.1
done
OPEN=$(idle_sleeps)
sleep 2
RSS1=$(rss_kib) THR1=$(threads)
API1=$(api_ms)
# scan_ms: median milliseconds of 20 POST /api/vault/scan of a short text in the org.
scan_ms() {
	local i
	for i in $(seq 1 20); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $A_JWT" \
			-H 'Content-Type: application/json' --data-binary '{"text":"nothing to see here"}' \
			"$VT_ADDR/api/vault/scan"
	done | awk '{printf "%.2f\n", $1 * 1000}' | median
}
[ "$SECRETS" -gt 0 ] && SCAN1=$(scan_ms)
bench_cleanup
IDLE_PIDS=()

# ---- table ------------------------------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN {printf "%.0f MiB", b / 1048576}'; }
# ratio A B: A/B, or "-" when either is not a figure.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-"}'; }
echo
echo "SSH broker bench — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(ssh -V 2>&1 | cut -d, -f1)"
echo "throughput: $(mib "$BYTES") of $DATA data, median of $RUNS runs; the broker scans and records;" \
	"client RekeyLimit $REKEY; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s | %10s %8s %8s %8s %8s | %10s %8s %8s %8s %8s\n' path "down MiB/s" "× direct" \
	"vt s" "db s" "all s" "up MiB/s" "× direct" "vt s" "db s" "all s"
for p in $PATHS broker-norec; do
	printf '%-12s | %10s %8s %8s %8s %8s | %10s %8s %8s %8s %8s\n' "$p" "${DOWN[$p]}" \
		"$(ratio "${DOWN[$p]}" "${DOWN[direct]}")" "${CPU_DOWN[$p]}" "${DB_DOWN[$p]}" \
		"${ALL_DOWN[$p]}" "${UP[$p]}" "$(ratio "${UP[$p]}" "${UP[direct]}")" "${CPU_UP[$p]}" \
		"${DB_UP[$p]}" "${ALL_UP[$p]}"
done
echo "  (vt s / db s / all s: CPU seconds per run of the server process / of PostgreSQL / of the"
echo "  whole machine: client, sshds, server, PostgreSQL and anything else running; broker-norec:"
echo "  the broker with the org's recording off, scanning still on; recordings stored:" \
	"$REC_SESSIONS sessions, $(mib "$REC_BYTES") of envelopes in $REC_WRITES)"
# The machine's CPU per GiB down on each path, and the rate that CPU would allow with every core
# busy on the transfer: a path that needs more CPU per byte than the cores give cannot go faster.
for p in $PATHS broker-norec; do
	awk -v p="$p" -v all="${ALL_DOWN[$p]:-0}" -v b="$BYTES" -v n="$(nproc)" -v d="${DOWN[direct]}" '
		BEGIN {
			if (all <= 0 || b <= 0) exit
			gib = b / 1073741824; ceil = n * (b / 1048576) / all
			printf "  CPU-bound ceiling, %-12s %6.2f machine CPU s per GiB down: at most %7.1f MiB/s on %d cores", \
			    p ":", all / gib, ceil, n
			if (d + 0 > 0) printf " (%.2f × direct'"'"'s measured rate)", ceil / d
			printf "\n"
		}'
done
echo
echo "connect latency, ms over $CONNECTS runs"
printf '%-13s | %10s %8s %10s | %12s %8s %10s\n' path "true p50" p90 "Δ direct" "prompt p50" p90 \
	"Δ direct"
for p in $LAT_PATHS; do
	printf '%-13s | %10s %8s %10s | %12s %8s %10s\n' "$p" "${T_MED[$p]}" "${T_P90[$p]}" \
		"$(awk -v a="${T_MED[$p]}" -v b="${T_MED[direct]}" 'BEGIN {printf "%+.1f", a - b}')" \
		"${P_MED[$p]}" "${P_P90[$p]}" \
		"$(awk -v a="${P_MED[$p]}" -v b="${P_MED[direct]}" 'BEGIN {printf "%+.1f", a - b}')"
done
echo
PER=$(awk -v a="$RSS0" -v b="$RSS1" -v n="$OPEN" 'BEGIN {printf "%.0f", (n > 0 ? (b - a) / n : 0)}')
echo "idle sessions: $OPEN open; server VmRSS $((RSS0 / 1024)) → $((RSS1 / 1024)) MiB," \
	"threads $THR0 → $THR1: $PER KiB per session"
echo "API latency (GET /api/auth/me, median of 20): $API0 ms → $API1 ms with $OPEN sessions open"
if [ "$SECRETS" -gt 0 ]; then
	echo "org: $SECRETS secrets stored through the API, $FP_ROWS fingerprint rows;" \
		"POST /api/vault/scan (short text, median of 20): $SCAN1 ms"
fi
echo
down_ratio=$(ratio "${DOWN[broker]}" "${DOWN[direct]}")
over=$(awk -v a="${T_MED[broker]}" -v b="${T_MED[direct]}" 'BEGIN {printf "%.1f", a - b}')
over_x=$(awk -v a="${T_MED[broker]}" -v b="${T_MED[direct-x25519]}" 'BEGIN {printf "%.1f", a - b}')
if [ "${#FAILURES[@]}" -gt 0 ]; then
	echo "failed transfers:"
	printf '  %s\n' "${FAILURES[@]}"
	echo
fi
echo "targets:"
awk -v r="$down_ratio" -v t="$TARGET_RATIO" 'BEGIN {if (r == "-") printf "  throughput (down): the broker path FAILED, target ≥ %.1f × direct: MISSED\n", t; else printf "  throughput (down) %.2f × direct, target ≥ %.1f: %s\n", r, t, (r >= t ? "met" : "MISSED")}'
awk -v o="$over" -v x="$over_x" -v t="$TARGET_OVERHEAD_MS" 'BEGIN {printf "  connect overhead %.1f ms over direct (%.1f ms over direct with the broker'"'"'s key exchange), target ≤ %d ms: %s\n", o, x, t, (o <= t && x <= t ? "met" : "MISSED")}'
awk -v k="$PER" -v t="$TARGET_RSS_KIB" -v n="$OPEN" -v w="$IDLE" 'BEGIN {printf "  %d KiB per idle session, target ≤ %d KiB: %s\n", k, t, (n < w ? "NOT MEASURED (only " n " of " w " sessions opened)" : (k <= t ? "met" : "MISSED"))}'
