#!/usr/bin/env bash
# The audit chain under concurrent load. 8 clients run for LOAD_SECONDS (30) against one server
# whose sequencer runs with its default settings (AUDIT_CHECKPOINT_INTERVAL_MS 1000,
# AUDIT_CHECKPOINT_ROWS 1000): 4 users share one organization (its owner and 3 admins who joined
# through invites) and 4 users each have an organization of their own. Each client loops
#   POST /api/tokens → DELETE /api/tokens/{id} → POST /api/vault/secrets/{id}/reveal
# (API_TOKEN_CREATED, API_TOKEN_REVOKED, SECRET_REVEALED: three audited actions per round, on its
# own vault and secret). When the load stops, the test waits until every organization's log is
# sealed (audit_log_state.size == checkpoint_size == its number of audit rows), then checks with
# the superuser, per organization:
#  - every committed audit_log row is in audit_index exactly once, under its own organization,
#    and nothing else is: the rows the clients were answered 2xx for are all there;
#  - the indexes are exactly 0..n-1 (no gap, no duplicate), in the sequencer's (txid, seq) order;
#  - the checkpoints' ranges [previous size, size) tile [0, n): every row is in exactly one;
#  - checkpoint counters strictly increase, each prev_hash is the previous checkpoint's
#    text_hash (the first has none), and the state row points at the newest checkpoint;
#  - GET /api/audit shows each row's index as audit_index has it;
#  - the export (`vaultterm audit export`) verifies offline with `vaultterm audit verify` against
#    the org's public key (GET /api/audit/public-key), with the right numbers of rows and
#    checkpoints.
# Prints the rows written and the throughput (informational: nothing is asserted on speed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

LOAD_SECONDS=${LOAD_SECONDS:-30}
SEAL_TIMEOUT=30 # seconds to wait for the last checkpoint after the load stops
PIDS=()

# The clients go with the test, whatever happens; then the server and its cluster (lib.sh).
concurrency_cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	# vt_cleanup reads the test's status from $?: hand it over without tripping `set -e`.
	set +e
	(exit "$rc")
	vt_cleanup
}
trap concurrency_cleanup EXIT

vt_start

# ---- fixtures: 8 users in 5 organizations, each with a vault and a secret it can reveal ------------
JWTS=() ORGS=() SECRETS=()
reg owner@shared.ac.example
SHARED_ORG=$REG_ORG
SHARED_JWT=$REG_TOKEN
JWTS+=("$REG_TOKEN")
ORGS+=("$REG_ORG")
for a in ann bob cid; do
	join "$SHARED_JWT" "$a@shared.ac.example" admin
	JWTS+=("$JOIN_TOKEN")
	ORGS+=("$SHARED_ORG")
done
OWN_JWT=()
for s in dan eve fay gus; do
	reg "$s@own.ac.example"
	JWTS+=("$REG_TOKEN")
	ORGS+=("$REG_ORG")
	OWN_JWT+=("$REG_TOKEN")
done
for i in $(seq 0 7); do
	mkvault "${JWTS[$i]}" "load-$i"
	mksecret "${JWTS[$i]}" "$VAULT_ID" \
		"$(jq -nc --arg p "$(canary pw)" '{type:"PASSWORD",name:"load",fields:{password:$p}}')"
	SECRETS+=("$SECRET_ID")
done
# One owner JWT per organization (audit:read), and the organizations as an SQL array.
ORG_LIST=("$SHARED_ORG")
ORG_JWT=("$SHARED_JWT")
for i in 4 5 6 7; do
	ORG_LIST+=("${ORGS[$i]}")
	ORG_JWT+=("${JWTS[$i]}")
done
ORG_SQL="ARRAY[$(printf "'%s'," "${ORG_LIST[@]}" | sed 's/,$//')]::uuid[]"
[ "$VT_FAILS" -eq 0 ] || { finish; exit 1; }

# rows_of ORG: committed audit rows of the organization.
rows_of() { psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$1'"; }
declare -A BEFORE
for o in "${ORG_LIST[@]}"; do BEFORE[$o]=$(rows_of "$o"); done

# ---- the load ---------------------------------------------------------------------------------------
# http METHOD PATH BODY JWT OUT: prints the status (own output file: clients run in parallel).
http() {
	local args=(-s -o "$5" -w '%{http_code}' -X "$1" --max-time 60 -H "Authorization: Bearer $4")
	[ -n "$3" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "$VT_ADDR$2" || echo 000
}

# client I END: audited actions until the clock passes END (epoch seconds). Each action answered
# with success appends its org to $VT_TMP/ok.I; anything else is logged to $VT_TMP/errors.I and
# ends the client.
client() {
	local i=$1 end=$2 jwt=${JWTS[$1]} org=${ORGS[$1]} s=${SECRETS[$1]} out="$VT_TMP/out.$1" st id= k=0
	: >"$VT_TMP/ok.$i"
	: >"$VT_TMP/errors.$i"
	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		k=$((k + 1))
		st=$(http POST /api/tokens "{\"name\":\"c$i-$k\",\"scopes\":[\"vault:read\"]}" "$jwt" "$out")
		[ "$st" = 201 ] || { echo "client $i: token create $st $(cat "$out")" >>"$VT_TMP/errors.$i"; return; }
		echo "$org" >>"$VT_TMP/ok.$i"
		# the token id, without a jq process per round: {"id":"<uuid>",...}
		id=
		[[ $(<"$out") =~ \"id\":\"([0-9a-f-]{36})\" ]] && id=${BASH_REMATCH[1]}
		st=$(http DELETE "/api/tokens/$id" "" "$jwt" "$out")
		[ "$st" = 204 ] || { echo "client $i: token revoke $st $(cat "$out")" >>"$VT_TMP/errors.$i"; return; }
		echo "$org" >>"$VT_TMP/ok.$i"
		st=$(http POST "/api/vault/secrets/$s/reveal" '{"reason":"load"}' "$jwt" "$out")
		[ "$st" = 200 ] || { echo "client $i: reveal $st $(cat "$out")" >>"$VT_TMP/errors.$i"; return; }
		echo "$org" >>"$VT_TMP/ok.$i"
	done
}

T0=$(date +%s.%N)
END=$((EPOCHSECONDS + LOAD_SECONDS))
for i in $(seq 0 7); do
	client "$i" "$END" &
	PIDS+=($!)
done
# While the load runs, the chain keeps up: at least one checkpoint per organization, and this
# server is the sequencer.
sleep 3
api GET /health
expect_jq '.audit == "sequencing"' "the only server sequences"
for i in "${PIDS[@]}"; do wait "$i"; done
PIDS=()
T1=$(date +%s.%N)
expect_eq "" "$(cat "$VT_TMP"/errors.*)" "every audited action of every client succeeded"
WRITTEN=$(cat "$VT_TMP"/ok.* | wc -l)
ELAPSED=$(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}')
echo "load: 8 clients (4 in one org, 4 in their own), $WRITTEN audited actions in $ELAPSED s =" \
	"$(awk -v n="$WRITTEN" -v t="$ELAPSED" 'BEGIN {printf "%.0f", n / t}') rows/s" >&2
[ "$WRITTEN" -ge 240 ] && pass || fail "only $WRITTEN audited actions in $ELAPSED s: the load did not run"

# ---- wait until everything is sealed ----------------------------------------------------------------
# Sealed: every org's state size equals its checkpoint size and its number of audit rows.
UNSEALED_SQL="SELECT count(*) FROM unnest($ORG_SQL) AS o(id)
	LEFT JOIN audit_log_state s ON s.org_id = o.id
	WHERE s.org_id IS NULL OR s.size <> s.checkpoint_size
	   OR s.size <> (SELECT count(*) FROM audit_log l WHERE l.org_id = o.id)"
sealed=""
for _ in $(seq 1 $((SEAL_TIMEOUT * 5))); do
	if [ "$(psql_super "$UNSEALED_SQL")" = 0 ]; then
		sealed=yes
		break
	fi
	sleep 0.2
done
T2=$(date +%s.%N)
if [ -n "$sealed" ]; then
	pass
	echo "sealed: every log checkpointed $(awk -v a="$T1" -v b="$T2" 'BEGIN {printf "%.1f", b - a}') s after the load stopped" >&2
else
	fail "logs not sealed $SEAL_TIMEOUT s after the load: $(psql_super "SELECT org_id, size,
		checkpoint_size FROM audit_log_state WHERE org_id = ANY ($ORG_SQL)" | tr '\n' ' ')"
fi
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log l WHERE l.org_id = ANY ($ORG_SQL)
	AND NOT EXISTS (SELECT 1 FROM audit_index i WHERE i.audit_id = l.id)")" "no unsequenced row is left"

# ---- the chain of each organization -----------------------------------------------------------------
# chain_check ORG JWT WHAT: every structural property of one org's log, then export + verify.
chain_check() {
	local org=$1 jwt=$2 what=$3 n got key out rc
	n=$(rows_of "$org")
	# every committed row indexed exactly once, under its own org; nothing else indexed
	expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log l WHERE l.org_id = '$org'
		AND (SELECT count(*) FROM audit_index i WHERE i.audit_id = l.id) <> 1")" \
		"$what: every audit row is in audit_index exactly once"
	expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_index i LEFT JOIN audit_log l
		ON l.id = i.audit_id WHERE (i.org_id = '$org' OR l.org_id = '$org')
		AND i.org_id IS DISTINCT FROM l.org_id")" "$what: index rows and audit rows agree on the org"
	# indexes exactly 0..n-1
	expect_eq "$n|0|$((n - 1))|$n|$n" "$(psql_super "SELECT count(*), min(idx), max(idx),
		count(DISTINCT idx), count(DISTINCT audit_id) FROM audit_index WHERE org_id = '$org'")" \
		"$what: indexes are 0..$((n - 1)), no gap, no duplicate"
	# in the sequencer's order: (txid, seq) increases with the index
	expect_eq 0 "$(psql_super "SELECT count(*) FROM (SELECT l.txid, l.seq,
		lag(l.txid) OVER w AS pt, lag(l.seq) OVER w AS ps
		FROM audit_index i JOIN audit_log l ON l.id = i.audit_id WHERE i.org_id = '$org'
		WINDOW w AS (ORDER BY i.idx)) t WHERE pt IS NOT NULL AND (txid, seq) <= (pt, ps)")" \
		"$what: index order is (txid, seq) order"
	# checkpoints, in the order they were sealed (counter): sizes grow, counters grow, links hold
	got=$(psql_super "WITH c AS (SELECT size, counter, prev_hash, text_hash,
			lag(size, 1, 0::bigint) OVER w AS psize, lag(counter) OVER w AS pcounter,
			lag(text_hash) OVER w AS phash, row_number() OVER w AS rn
			FROM audit_checkpoints WHERE org_id = '$org' WINDOW w AS (ORDER BY counter))
		SELECT count(*) > 0, coalesce(max(size), 0),
			count(*) FILTER (WHERE size <= psize),
			count(*) FILTER (WHERE rn > 1 AND counter <= pcounter),
			count(*) FILTER (WHERE (rn = 1 AND prev_hash IS NOT NULL)
				OR (rn > 1 AND prev_hash IS DISTINCT FROM phash))
		FROM c")
	expect_eq "t|$n|0|0|0" "$got" \
		"$what: checkpoints (any|last size|size not growing|counter not growing|broken link)"
	expect_eq 0 "$(psql_super "SELECT count(*) FROM (SELECT lag(counter) OVER (ORDER BY size) AS pc,
		counter FROM audit_checkpoints WHERE org_id = '$org') t WHERE counter <= pc")" \
		"$what: counters strictly increase with the size"
	expect_eq 0 "$(psql_super "WITH c AS (SELECT size, lag(size, 1, 0::bigint) OVER (ORDER BY size)
			AS psize FROM audit_checkpoints WHERE org_id = '$org')
		SELECT count(*) FROM audit_index i WHERE i.org_id = '$org'
		AND (SELECT count(*) FROM c WHERE i.idx >= c.psize AND i.idx < c.size) <> 1")" \
		"$what: every row is in exactly one checkpointed range"
	expect_eq "$n|$n|t|t" "$(psql_super "SELECT s.size, s.checkpoint_size,
		s.checkpoint_hash = c.text_hash, s.checkpoint_counter = c.counter
		FROM audit_log_state s JOIN audit_checkpoints c ON c.org_id = s.org_id
		WHERE s.org_id = '$org' ORDER BY c.size DESC LIMIT 1")" \
		"$what: the state row points at the newest checkpoint"
	# the API's index is audit_index's
	api GET "/api/audit?limit=200" "" "$jwt"
	expect_status 200 "$what: GET /api/audit"
	got=$(jq -r '.items[] | "\(.id) \(.index)"' <<<"$BODY" | sort)
	expect_eq "$(psql_super "SELECT i.audit_id || ' ' || i.idx FROM audit_index i
		WHERE i.audit_id IN ($(jq -r '[.items[].id] | map("'"'"'" + . + "'"'"'") | join(",")' <<<"$BODY"))
		ORDER BY 1")" "$got" "$what: GET /api/audit shows each row's index"
	# export + offline verification
	api GET /api/audit/public-key "" "$jwt"
	expect_status 200 "$what: public key"
	key=$(jq -r .public_key <<<"$BODY")
	rc=0
	out=$(VAULTTERM_TOKEN=$jwt vt audit export -o "$VT_TMP/export.$org" 2>&1) || rc=$?
	expect_eq 0 "$rc" "$what: vaultterm audit export ($out)"
	rc=0
	out=$(vt audit verify "$VT_TMP/export.$org" --public-key "$key" 2>&1) || rc=$?
	expect_eq 0 "$rc" "$what: vaultterm audit verify exits 0 ($out)"
	local m
	m=$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$org'")
	if grep -Eq "^OK $n rows, $m checkpoints" <<<"$out"; then pass; else
		fail "$what: verify should say 'OK $n rows, $m checkpoints...', said: $out"
	fi
	echo "$what: $n rows, $m checkpoints, verified" >&2
}

TOTAL=0
for k in "${!ORG_LIST[@]}"; do
	o=${ORG_LIST[$k]}
	n=$(rows_of "$o")
	TOTAL=$((TOTAL + n))
	# No lost or phantom row: what the clients were answered for is exactly what was added.
	expect_eq "$(cat "$VT_TMP"/ok.* | grep -c "^$o\$" || true)" "$((n - BEFORE[$o]))" \
		"org $k: audit rows added = audited actions answered with success"
	chain_check "$o" "${ORG_JWT[$k]}" "org $k$([ "$k" = 0 ] && echo ' (shared by 4 clients)')"
done
echo "rows written during the load: $WRITTEN; rows in the 5 logs: $TOTAL;" \
	"throughput $(awk -v n="$WRITTEN" -v t="$ELAPSED" 'BEGIN {printf "%.0f", n / t}') audited actions/s" \
	"sealed within $(awk -v a="$T1" -v b="$T2" 'BEGIN {printf "%.1f", b - a}') s" >&2

# Nothing went wrong on the way: no tamper or rollback finding, no server error.
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action IN
	('AUDIT_TAMPER_DETECTED', 'AUDIT_ROLLBACK_DETECTED')")" "no tamper or rollback event"
expect_eq "" "$(grep -E ' (ERROR|FATAL) ' "$VT_LOG" | head -n 5)" "no error in the server log"

finish
