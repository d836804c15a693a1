#!/usr/bin/env bash
# Secret writes per second into ONE organization, several writers at a time, through the API:
#
#   bench/secret_writes.sh [path/to/vaultterm]     (a release build: cmake --preset release)
#
# Every write of a secret's value replaces its fingerprints and so bumps the organization's
# fingerprint generation (schema 7) in the writer's transaction: writers of one organization wait
# for each other from their fingerprint write to their commit. This shows what that costs.
# BENCH_WRITERS (8) requests at a time, BENCH_WRITES (2000) PASSWORD secrets per run, BENCH_RUNS
# (3) runs; prints writes/s per run. Compare two builds by running it for each, alternately (the
# machine's other load moves the figures). Asserts nothing; not part of `make test`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-./build/release/vaultterm}
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable (build the release preset)" >&2; exit 1; }
VAULTTERM_BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
export VAULTTERM_BIN
WRITERS=${BENCH_WRITERS:-8}
WRITES=${BENCH_WRITES:-2000}
RUNS=${BENCH_RUNS:-3}
command -v python3 >/dev/null || { echo "bench: python3 is not installed (make deps)" >&2; exit 1; }

. "$HERE/../tests/integration/lib.sh"
. "$HERE/../tests/integration/vault_lib.sh"

vt_start SSH_BROKER_PORT=off
reg "writer-$(openssl rand -hex 3)@bench.example"
mkvault "$REG_TOKEN" bench
[ "$VT_FAILS" -eq 0 ] || { echo "bench: setting up failed" >&2; exit 1; }
echo "secret writes into one org — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $WRITERS writers," \
	"$WRITES writes per run, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
	python3 - "$VT_ADDR" "$REG_TOKEN" "$VAULT_ID" "$WRITES" "$WRITERS" "$run" <<'PY'
import concurrent.futures, json, os, sys, time, urllib.request
addr, jwt, vault = sys.argv[1], sys.argv[2], sys.argv[3]
n, par, run = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def one(i):
    body = json.dumps({"type": "PASSWORD", "name": "w%s-%d" % (run, i),
                       "fields": {"password": os.urandom(20).hex()}}).encode()
    req = urllib.request.Request(addr + "/api/vault/vaults/" + vault + "/secrets", data=body,
                                 method="POST", headers={"Authorization": "Bearer " + jwt,
                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(par) as ex:
    st = list(ex.map(one, range(n)))
dt = time.monotonic() - t0
print("run %s: %d writes (%d not 201) in %.1f s: %.0f writes/s" %
      (run, n, sum(1 for s in st if s != 201), dt, n / dt))
PY
done
