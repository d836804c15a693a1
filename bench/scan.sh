#!/usr/bin/env bash
# The exposure scanner (issue 5): single-core throughput of `vaultterm scan`, with and without
# vault fingerprints, beside secretlint measured in the same run on the same bytes, and the recall
# of both on a labeled corpus.
#
#   bench/scan.sh [path/to/vaultterm]     (make bench builds the release preset first)
#
# 1. Corpora from tests/scan/gen_corpus.py (seeded; cached in $BENCH_CACHE, by default
#    <build dir>/scan-bench, because generating 256 MB takes ~15 s of Python): a BENCH_SIZE
#    (256M) terminal-output corpus with secrets planted among hard negatives, the same sessions
#    with placeholders instead of secrets ("clean": ordinary output, the common case), and a
#    2 MB labeled corpus for recall.
# 2. `vaultterm scan --format json` pinned to one core (taskset -c BENCH_CORE), BENCH_RUNS (3)
#    runs each, best and median MB/s (10^6 bytes) from the JSON duration_ms: the read + scan +
#    output loop, without compiling the rules (that is timed on its own, on empty input).
#    Rules only, then with BENCH_FINGERPRINTS (10000) random vault fingerprints loaded through
#    the CLI's --bench-fingerprints (they never match: this is the cost of tokenizing and looking
#    up every candidate token); the CLI prints the fingerprint set's memory and the per-stream
#    state, and /usr/bin/time the peak RSS. Then the engine alone through bench/scan_bench.c
#    (when the build has that target), which feeds its own buffer without the CLI around it.
#    BENCH_BREAKDOWN=1 adds the rate on each kind of session alone (env dumps, .env, kubectl, ...).
#    Then the floor under the design (bench/scan_floor.c): the ANSI filter and Vectorscan alone,
#    no work per match, on the engine's database and on literal-trigger sets (bench/scan-floor/).
# 3. secretlint (npm: secretlint + @secretlint/secretlint-rule-preset-recommend, installed by this
#    script into $BENCH_SECRETLINT_DIR, by default build/secretlint: scripts/deps.sh installs
#    Debian packages only), on the same core, node's start-up (timed on an empty file)
#    subtracted: on the whole corpus split into files of at most 1 MB (whole lines), and on its
#    first BENCH_SECRETLINT_MB (32) MB as one file — secretlint slows down superlinearly with the
#    size of a file (on this corpus ~30 MB/s on 1 MB files, ~1 MB/s on one 32 MB file), so the
#    ratio is taken against its better rate; `vaultterm scan` on the same 32 MB too; and
#    secretlint on the corpus without secrets, for the ratio there.
# 4. Recall of both on the labeled corpus, restricted to the formats both claim to detect
#    (secretlint's rule ids mapped to the corpus's formats below); a finding counts for a planted
#    secret when their byte ranges overlap (secretlint's UTF-16 ranges are converted to bytes).
#    Precision of each on that corpus is printed too.
# Targets (issue 5): >= 1 GB/s per core rules-only, >= 300 MB/s with 10,000 fingerprints, >= 50x
# secretlint, recall >= secretlint's on shared formats. Prints figures and whether each target is
# met; it asserts nothing (speed is measured, not asserted).
set -euo pipefail

BIN=${1:-./build/release/vaultterm}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
BINDIR=$(dirname "$BIN")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GEN="$ROOT/tests/scan/gen_corpus.py"
SIZE=${BENCH_SIZE:-256M}
SEED=${BENCH_SEED:-20240304}
RUNS=${BENCH_RUNS:-3}
NFP=${BENCH_FINGERPRINTS:-10000}
CORE=${BENCH_CORE:-0}
SL_MB=${BENCH_SECRETLINT_MB:-32}
CACHE=${BENCH_CACHE:-$BINDIR/scan-bench}
SL_DIR=${BENCH_SECRETLINT_DIR:-$ROOT/build/secretlint}
SL_PKGS="secretlint@12 @secretlint/secretlint-rule-preset-recommend@12"
TARGET_RULES=1000
TARGET_FP=300
TARGET_RATIO=50
TMP=$(mktemp -d /tmp/vt-bench-scan.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

for t in python3 jq node npm taskset awk; do
	command -v "$t" >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: no binary at $BIN (make release)" >&2; exit 1; }
mkdir -p "$CACHE"

# corpus NAME ARGS...: generates $CACHE/NAME once (and NAME.labels.json); prints its path.
corpus() {
	local name=$1 f
	shift
	f="$CACHE/$name"
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
		echo "bench: generating $name ..." >&2
		python3 "$GEN" --seed "$SEED" "$@" -o "$f.tmp" --labels "$f.labels.json.tmp"
		mv "$f.labels.json.tmp" "$f.labels.json"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}
BIG=$(corpus "corpus-$SEED-$SIZE.txt" --size "$SIZE")
CLEAN=$(corpus "clean-$SEED-$SIZE.txt" --size "$SIZE" --no-secrets)
LAB=$(corpus "labeled-$SEED-2M.txt" --size 2M)
bytes() { stat -c %s "$1"; }

# scan_runs FILE [ARGS...]: RUNS pinned runs; sets BEST MEDIAN (MB/s), NFOUND, ERR (last stderr).
scan_runs() {
	local f=$1 rc
	shift
	: >"$TMP/mbs"
	for _ in $(seq 1 "$RUNS"); do
		taskset -c "$CORE" "$BIN" scan --format json "$@" "$f" >"$TMP/scan.json" 2>"$TMP/scan.err" &&
			rc=0 || rc=$?
		if [ "$rc" -gt 1 ]; then
			echo "bench: vaultterm scan $* $f exited $rc: $(head -c 500 "$TMP/scan.err")" >&2
			return 1
		fi
		jq -r '"\(.bytes) \(.duration_ms)"' "$TMP/scan.json" |
			awk '{ printf "%.1f\n", $1 / 1e6 / ($2 / 1e3) }' >>"$TMP/mbs"
	done
	read -r BEST MEDIAN < <(sort -n "$TMP/mbs" | awk '{ v[NR] = $1 } END { print v[NR], v[int((NR + 1) / 2)] }')
	NFOUND=$(jq '.findings | length' "$TMP/scan.json")
	ERR=$(cat "$TMP/scan.err")
}
verdict() { # VALUE TARGET
	awk -v v="$1" -v t="$2" 'BEGIN { if (v >= t) print "met"; else printf "MISSED (%.2f of the target)\n", v / t }'
}
now() { date +%s.%N; }

echo "VaultTerm exposure scanner benchmark: $(basename "$BIN") at $BIN, core $CORE of $(nproc),"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on core $CORE skews every figure)"
echo "corpora (seed $SEED): $(basename "$BIG") $(bytes "$BIG") bytes with $(jq length "$BIG.labels.json") planted secrets;"
echo "  $(basename "$CLEAN") $(bytes "$CLEAN") bytes, placeholders instead of secrets; $(basename "$LAB") for recall"

# ---- 1. throughput ------------------------------------------------------------------------------
t0=$(now)
taskset -c "$CORE" "$BIN" scan - </dev/null >/dev/null 2>"$TMP/empty.err" ||
	{ echo "bench: vaultterm scan of empty input failed: $(cat "$TMP/empty.err")" >&2; exit 1; }
t1=$(now)
COMPILE_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
taskset -c "$CORE" "$BIN" scan --format json "$BIG" >/dev/null 2>&1 || true # page cache

printf '\n%-52s %10s %10s %9s  %s\n' "single core, MB/s (10^6 bytes/s)" best median findings target
scan_runs "$BIG"
R_BIG=$BEST
printf '%-52s %10s %10s %9s  %s\n' "rules only, corpus with secrets" "$BEST" "$MEDIAN" "$NFOUND" \
	"≥ $TARGET_RULES: $(verdict "$BEST" "$TARGET_RULES")"
scan_runs "$CLEAN"
R_CLEAN=$BEST
printf '%-52s %10s %10s %9s  %s\n' "rules only, the same without secrets" "$BEST" "$MEDIAN" "$NFOUND" \
	"≥ $TARGET_RULES: $(verdict "$BEST" "$TARGET_RULES")"
FP_OK=1
if scan_runs "$BIG" --bench-fingerprints "$NFP"; then
	FPLINE=$(grep '^scan:' <<<"$ERR" || true)
	printf '%-52s %10s %10s %9s  %s\n' "rules + $NFP fingerprints, corpus with secrets" "$BEST" \
		"$MEDIAN" "$NFOUND" "≥ $TARGET_FP: $(verdict "$BEST" "$TARGET_FP")"
	scan_runs "$CLEAN" --bench-fingerprints "$NFP"
	printf '%-52s %10s %10s %9s  %s\n' "rules + $NFP fingerprints, without secrets" "$BEST" \
		"$MEDIAN" "$NFOUND" "≥ $TARGET_FP: $(verdict "$BEST" "$TARGET_FP")"
else
	FP_OK=0
	echo "fingerprints: not measured (vaultterm scan --bench-fingerprints failed, above)"
fi
echo "compiling the rules + start-up (scan of empty input): ${COMPILE_MS} ms, not in the figures above"
# The engine alone, without the CLI's reads and output (bench/scan_bench.c, its own buffer), then
# on the two corpora above: scan_bench times the scanning thread's CPU, so these figures hold on a
# machine where other work shares the core (the wall-clock figures above then drop; caches are
# still shared).
if [ -x "$BINDIR/scan_bench" ] || cmake --build "$BINDIR" --target scan_bench >/dev/null 2>&1; then
	echo "engine alone (bench/scan_bench.c on its own generated buffer, core $CORE):"
	taskset -c "$CORE" "$BINDIR/scan_bench" 64 | sed 's/^/  /'
	echo "engine alone on the corpora above (scan_bench FILE, CPU time of the scanning thread, best of 3):"
	for f in "$BIG" "$CLEAN"; do
		taskset -c "$CORE" "$BINDIR/scan_bench" "$f" >"$TMP/eng.txt" 2>&1 ||
			{ echo "  scan_bench $f failed: $(head -c 300 "$TMP/eng.txt")"; continue; }
		awk -v name="$(basename "$f")" -v tr="$TARGET_RULES" -v tf="$TARGET_FP" '
			function v(x, t) { return x >= t ? "met" : sprintf("MISSED (%.2f of the target)", x / t) }
			/rules only:/ { r = $4 } /rules \+ 10k fingerprints:/ { p = $6 } /redacting stream/ { d = $5 }
			END { printf "  %-40s rules %6s MB/s (>= %d: %s); + 10k fingerprints %6s MB/s (>= %d: %s); redacting %s MB/s\n",
				name, r, tr, v(r, tr), p, tf, v(p, tf), d }' "$TMP/eng.txt"
	done
else
	echo "engine alone: no scan_bench target in $BINDIR (not measured)"
fi
# The floor under this design (bench/scan_floor.c, docs/scanner.md "The floor"): the filter and
# Vectorscan alone, no work per match, over the engine's database and over every rule cut down to a
# literal trigger (bench/scan-floor/triggers.txt), and the triggers of only the formats issue 5
# names (named.txt). What no amount of work around Vectorscan can beat on this corpus.
if [ -x "$BINDIR/scan_floor" ] || cmake --build "$BINDIR" --target scan_floor >/dev/null 2>&1; then
	echo "the floor (scan_floor FILE: filter and Vectorscan alone, no work per match, CPU time, best of 3):"
	for f in "$BIG" "$CLEAN"; do
		echo "  $(basename "$f"):"
		taskset -c "$CORE" "$BINDIR/scan_floor" "$f" "$ROOT/bench/scan-floor/triggers.txt" \
		    "$ROOT/bench/scan-floor/named.txt" 2>&1 | sed 's/^scan_floor: /    /'
	done
else
	echo "the floor: no scan_floor target in $BINDIR (not measured)"
fi

# Where the time goes: each kind of session alone (BENCH_BREAKDOWN=1), 8 MB with and without secrets.
if [ "${BENCH_BREAKDOWN:-0}" = 1 ]; then
	echo "by kind of session (gen_corpus.py --sessions KIND, 8 MB each), rules only, MB/s:"
	printf '  %-10s %12s %10s %12s %10s\n' kind "no secrets" findings "secrets" findings
	for kind in $(python3 "$GEN" --list-sessions); do
		python3 "$GEN" --seed "$SEED" --size 8M --sessions "$kind" --no-secrets -o "$TMP/kind0.txt"
		python3 "$GEN" --seed "$SEED" --size 8M --sessions "$kind" -o "$TMP/kind1.txt"
		scan_runs "$TMP/kind0.txt"
		a=$BEST n0=$NFOUND
		scan_runs "$TMP/kind1.txt"
		printf '  %-10s %12s %10s %12s %10s\n' "$kind" "$a" "$n0" "$BEST" "$NFOUND"
	done
	rm -f "$TMP/kind0.txt" "$TMP/kind1.txt"
fi

# ---- memory -------------------------------------------------------------------------------------
echo
if [ "$FP_OK" = 1 ] && [ -n "$FPLINE" ]; then
	# "scan: N fingerprints in M bytes; S bytes per stream with them, R without"
	read -r F M S R < <(sed -E 's/^scan: ([0-9]+) fingerprints in ([0-9]+) bytes; ([0-9]+) bytes per stream with them, ([0-9]+) without$/\1 \2 \3 \4/' <<<"$FPLINE")
	awk -v n="$NFP" -v f="$F" -v m="$M" -v s="$S" -v r="$R" 'BEGIN {
		printf "memory: %d bytes of state per open stream, %d with fingerprints after the whole corpus;\n", r, s
		printf "        %d values -> %d fingerprints in %d bytes: %.1f KiB per 10,000 values, %.1f bytes per fingerprint\n",
			n, f, m, m / n * 10000 / 1024, (f > 0 ? m / f : 0) }'
fi
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%M' -o "$TMP/rss0" "$BIN" scan - </dev/null >/dev/null 2>&1 || true
	/usr/bin/time -f '%M' -o "$TMP/rss1" "$BIN" scan "$BIG" >/dev/null 2>&1 || true
	echo "peak RSS of vaultterm scan: $(tail -n1 "$TMP/rss0") KiB on empty input, $(tail -n1 "$TMP/rss1") KiB on $SIZE (streamed in 64 KiB reads)"
fi

# ---- 2. secretlint ------------------------------------------------------------------------------
if [ ! -x "$SL_DIR/node_modules/.bin/secretlint" ]; then
	echo "bench: installing $SL_PKGS into $SL_DIR" >&2
	mkdir -p "$SL_DIR"
	# shellcheck disable=SC2086
	npm install --prefix "$SL_DIR" --no-audit --no-fund --silent $SL_PKGS >&2
fi
echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' >"$TMP/secretlintrc.json"
SL_VER=$(node -p "require('$SL_DIR/node_modules/secretlint/package.json').version")
SLICE="$TMP/slice.txt"
head -c "$((SL_MB * 1000000))" "$BIG" >"$SLICE"
mkdir "$TMP/split" "$TMP/split-clean"
split -C 1000000 -d -a 4 --additional-suffix=.txt "$BIG" "$TMP/split/part-"
split -C 1000000 -d -a 4 --additional-suffix=.txt "$CLEAN" "$TMP/split-clean/part-"
: >"$TMP/empty.txt"
secretlint() { taskset -c "$CORE" "$SL_DIR/node_modules/.bin/secretlint" --no-color \
	--no-terminalLink --secretlintrc "$TMP/secretlintrc.json" "$@"; }
# sl_time ARGS...: seconds of one pinned secretlint run (--format unix to $TMP/sl.out)
sl_time() {
	local a b
	a=$(now)
	secretlint --format unix "$@" >"$TMP/sl.out" 2>&1 || true
	b=$(now)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }'
}
SL_T0=$(sl_time "$TMP/empty.txt")
SL_T_SPLIT=$(sl_time "$TMP/split/*.txt")
SL_N_SPLIT=$(grep -c 'secretlint-rule' "$TMP/sl.out" || true)
SL_T_CLEAN=$(sl_time "$TMP/split-clean/*.txt")
SL_N_CLEAN=$(grep -c 'secretlint-rule' "$TMP/sl.out" || true)
SL_T_ONE=$(sl_time "$SLICE")
SL_N_ONE=$(grep -c 'secretlint-rule' "$TMP/sl.out" || true)
mbs() { awk -v n="$1" -v t="$2" -v t0="$3" 'BEGIN { printf "%.2f", n / 1e6 / (t - t0) }'; }
SL_SPLIT=$(mbs "$(bytes "$BIG")" "$SL_T_SPLIT" "$SL_T0")
SL_ONE=$(mbs "$(bytes "$SLICE")" "$SL_T_ONE" "$SL_T0")
SL_CLEAN=$(mbs "$(bytes "$CLEAN")" "$SL_T_CLEAN" "$SL_T0")
SL_BEST=$(awk -v a="$SL_SPLIT" -v b="$SL_ONE" 'BEGIN { print (a > b ? a : b) }')
scan_runs "$SLICE"
echo
echo "secretlint $SL_VER (preset-recommend), core $CORE, node start-up (${SL_T0} s) subtracted:"
printf '  %-58s %9s MB/s  (%s s, %s findings)\n' "the whole corpus with secrets, split in $(find "$TMP/split" -name '*.txt' | wc -l) files of <= 1 MB" \
	"$SL_SPLIT" "$SL_T_SPLIT" "$SL_N_SPLIT"
printf '  %-58s %9s MB/s  (%s s, %s findings)\n' "the corpus without secrets, split the same way" \
	"$SL_CLEAN" "$SL_T_CLEAN" "$SL_N_CLEAN"
printf '  %-58s %9s MB/s  (%s s, %s findings)\n' "its first $SL_MB MB as one file (a long log)" "$SL_ONE" "$SL_T_ONE" "$SL_N_ONE"
printf '  %-58s %9s MB/s  (%s findings)\n' "vaultterm scan, rules only, the same $SL_MB MB" "$BEST" "$NFOUND"
RATIO=$(awk -v a="$R_BIG" -v b="$SL_BEST" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')
RATIO_ONE=$(awk -v a="$BEST" -v b="$SL_ONE" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')
RATIO_CLEAN=$(awk -v a="$R_CLEAN" -v b="$SL_CLEAN" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')
echo "  ratio on the corpus with secrets: ${RATIO}x against secretlint's better rate (${RATIO_ONE}x on the $SL_MB MB file); ≥ ${TARGET_RATIO}x: $(verdict "$RATIO" "$TARGET_RATIO")"
echo "  ratio on the corpus without secrets: ${RATIO_CLEAN}x; ≥ ${TARGET_RATIO}x: $(verdict "$RATIO_CLEAN" "$TARGET_RATIO")"

# ---- 3. recall on shared formats ------------------------------------------------------------------
"$BIN" scan --format json "$LAB" >"$TMP/vt.json" 2>/dev/null || true
secretlint --format json --output "$TMP/sl.json" "$LAB" >/dev/null 2>&1 || true
echo
python3 - "$LAB" "$LAB.labels.json" "$TMP/vt.json" "$TMP/sl.json" <<'PY'
import json, sys
from bisect import bisect_left

corpus, labels, vt, sl = sys.argv[1:5]
data = open(corpus, "rb").read()
L = sorted(json.load(open(labels)), key=lambda x: x["start"])
# What each secretlint rule claims to detect, as corpus formats (its rule sources in
# node_modules/@secretlint/secretlint-rule-preset-recommend/module/index.js). Left out: encrypted
# private keys (its PEM patterns take RSA|DSA|EC|OPENSSH|PGP or no type, and no headers),
# Kubernetes secrets (secretlint has no rule for their data values) and AWS access key ids (its aws
# rule scans for them only with enableIDScanRule, off in the preset).
SHARED = {
    "@secretlint/secretlint-rule-aws": ["aws-secret-access-key"],
    "@secretlint/secretlint-rule-gcp": ["gcp-service-account-key"],
    "@secretlint/secretlint-rule-privatekey": ["private-key-rsa", "private-key-ec", "private-key-pkcs8",
                                               "private-key-openssh", "private-key-dsa", "private-key-pgp"],
    "@secretlint/secretlint-rule-npm": ["npm-token"],
    "@secretlint/secretlint-rule-basicauth": ["basic-auth-url"],
    "@secretlint/secretlint-rule-slack": ["slack-token", "slack-webhook"],
    "@secretlint/secretlint-rule-sendgrid": ["sendgrid-api-key"],
    "@secretlint/secretlint-rule-shopify": ["shopify-token"],
    "@secretlint/secretlint-rule-github": ["github-pat", "github-fine-grained-pat", "github-app-token", "github-oauth-token"],
    "@secretlint/secretlint-rule-gitlab": ["gitlab-pat"],
    "@secretlint/secretlint-rule-openai": ["openai-api-key"],
    "@secretlint/secretlint-rule-anthropic": ["anthropic-api-key"],
    "@secretlint/secretlint-rule-database-connection-string": ["postgres-uri", "mysql-uri", "mongodb-uri"],
    "@secretlint/secretlint-rule-hashicorp-vault": ["vault-token"],
    "@secretlint/secretlint-rule-docker": ["dockerhub-pat"],
}
shared = sorted({f for v in SHARED.values() for f in v})

try:
    vf = [(f["start"], f["end"]) for f in json.load(open(vt))["findings"]]
except Exception as e:
    print("recall: vaultterm's json output is unreadable (%s)" % e)
    vf = []
# secretlint ranges index the UTF-16 string of the file: map them to byte offsets
text = data.decode("utf-8")
u16_to_byte = [0]
for ch in text:
    n = len(ch.encode("utf-8"))
    u = 2 if ord(ch) > 0xFFFF else 1
    b = u16_to_byte[-1]
    u16_to_byte.extend([b + n] * u)
try:
    msgs = [m for r in json.load(open(sl)) for m in r.get("messages", [])]
except Exception as e:
    print("recall: secretlint's json output is unreadable (%s)" % e)
    msgs = []
sf = [(u16_to_byte[m["range"][0]], u16_to_byte[m["range"][1]]) for m in msgs if "range" in m]


def score(finds):
    Ls = [x["start"] for x in L]
    mx = max(x["end"] - x["start"] for x in L)
    hit = [False] * len(L)
    tp = 0
    for s, e in finds:
        i = bisect_left(Ls, s - mx)
        ok = False
        while i < len(L) and L[i]["start"] < e:
            if s < L[i]["end"]:
                hit[i] = ok = True
            i += 1
        tp += ok
    return hit, (tp / len(finds) if finds else 1.0)


vh, vp = score(vf)
sh, sp = score(sf)
print("recall on the labeled corpus (%d bytes, %d planted secrets), formats both claim to detect:" % (len(data), len(L)))
print("  %-28s %8s %14s %14s" % ("format", "planted", "vaultterm", "secretlint"))
tv = ts = tn = 0
worse = []
for f in shared:
    idx = [i for i, x in enumerate(L) if x["format"] == f]
    n = len(idx)
    a = sum(vh[i] for i in idx)
    b = sum(sh[i] for i in idx)
    tv, ts, tn = tv + a, ts + b, tn + n
    if a < b:
        worse.append(f)
    print("  %-28s %8d %8d %.3f %8d %.3f%s" % (f, n, a, a / n if n else 0, b, b / n if n else 0, "   <-- below secretlint" if a < b else ""))
rv, rs_ = (tv / tn if tn else 0), (ts / tn if tn else 0)
print("  %-28s %8d %8d %.3f %8d %.3f" % ("all shared formats", tn, tv, rv, ts, rs_))
allv = sum(vh) / len(L)
print("  all %d formats planted: vaultterm recall %.3f; secretlint %.3f (it claims %d of them)" % (
    len(set(x["format"] for x in L)), allv, sum(sh) / len(L), len(shared)))
print("precision on the labeled corpus (findings overlapping a planted secret): vaultterm %.3f (%d findings), secretlint %.3f (%d)"
      % (vp, len(vf), sp, len(sf)))
print("target recall >= secretlint's on shared formats: %s" % (
    "met" if rv >= rs_ and not worse else "MISSED" + (" (below it on: %s)" % ", ".join(worse) if worse else "")))
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
