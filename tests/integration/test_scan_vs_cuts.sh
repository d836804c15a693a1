#!/usr/bin/env bash
# Vectorscan reports the same matches of the engine's database (the built-in rules as db.c
# compiles them) however the output is cut and wherever each piece sits in memory, and through
# each code path of the library the CPU can run (bench/vs_cuts.c; docs/scanner.md, Limits).
# Vectorscan 5.4.9's AVX-512 code path loses matches of some expressions depending on the
# buffer's address (aws-access-key-id's pattern compiled alone is one of them); the engine's
# whole database was not found to be, and this keeps checking it on ~2 MB of generated terminal
# output (tests/scan/gen_corpus.py, fixed seed), with and without secrets. No server.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "missing tool: python3 (run scripts/deps.sh)" >&2; exit 1; }
SRC=${VT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
GEN="$SRC/tests/scan/gen_corpus.py"
CUTS="$(dirname "$VAULTTERM_BIN")/vs_cuts"
[ -x "$CUTS" ] || { echo "missing $CUTS (build the vs_cuts target)" >&2; exit 1; }
SEED=20240304

python3 "$GEN" --seed "$SEED" --size 2M -o "$VT_TMP/s.txt" 2>/dev/null
python3 "$GEN" --seed "$SEED" --size 2M --no-secrets -o "$VT_TMP/n.txt" 2>/dev/null

# check WHAT ARGS...: vs_cuts must find every pass the same as the one-call reference
check() {
	local what=$1 rc
	shift
	"$CUTS" "$@" >"$VT_TMP/out" 2>&1 && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then pass; else
		fail "$what: vs_cuts $* exited $rc: $(grep -v ': same$' "$VT_TMP/out" | head -c 3000)"
	fi
}

# the database as the engine compiles it (for no CPU features: the engine scans with the
# library's SSE4.2 build, db.c scan_hs), here through the library's own choice, the widest build:
# offsets and cuts
check "database as compiled, with secrets" "$VT_TMP/s.txt"
# compiled without CPU features, so that every code path (core2 .. avx512) can run it too
check "every code path, with secrets" -f 0 "$VT_TMP/s.txt"
check "every code path, without secrets" -f 0 -s 7 "$VT_TMP/n.txt"
grep -q 'code path' "$VT_TMP/out" || echo "note: this libhs has no per-CPU code paths to compare"

finish
