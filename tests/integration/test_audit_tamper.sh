#!/usr/bin/env bash
# The audit chain's tamper suite: a PostgreSQL superuser rewrites history "behind the server's
# back" (SET session_replication_role = replica disables the append-only triggers and the foreign
# keys) and both the offline verifier (`vaultterm audit verify` on a fresh export) and the server's
# background verification (AUDIT_TAMPER_DETECTED, detail.first_bad_index) must point at the first
# index in doubt. Each case has its own org: a fresh log of a few hundred rows sealed by several
# checkpoints (AUDIT_CHECKPOINT_ROWS=50). Cases:
#  (a)  one field of one row changed                       → FAIL index k (altered)
#  (b)  a row deleted (its index entry kept)               → FAIL index k (row missing)
#  (b2) a row and its index entry deleted                  → FAIL index k (leaf missing)
#  (c)  two rows' places swapped                           → FAIL index (the lower one)
#  (d)  a forged row put in the place of index k           → FAIL index k
#  (d2) ... with its leaf hash recomputed consistently      → FAIL at the start of k's checkpoint range
#  (e)  the unsealed tail deleted                          → FAIL index (last checkpoint size): row missing
#  (e2) truncated before the last checkpoint (rows, index and later checkpoints, state rewound):
#       the bundle alone verifies, --witness FAILs, and the server raises AUDIT_ROLLBACK_DETECTED
#  (f)  a middle checkpoint deleted                        → FAIL: prev link (previous checkpoint's size)
#  (f2) a checkpoint note edited                           → FAIL: signature
#  (g)  a checkpoint re-signed with another key of the same name (openssl Ed25519) → FAIL: signature
#  (g2) another org's checkpoint note copied in            → FAIL: signature
#  (h)  an older pg_dump restored (server restarted with AUDIT_SEQUENCER=off for the restore):
#       AUDIT_ROLLBACK_DETECTED (system row, /health), and --witness FAILs on a fresh export
# An untouched control org verifies OK and gets no tamper event.
. "$(dirname "$0")/lib.sh"

for tool in openssl pg_dump pg_restore sha256sum; do
	command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

WITNESS=$VT_TMP/witness.log
SERVER_ENV=(AUDIT_CHECKPOINT_ROWS=50 AUDIT_CHECKPOINT_INTERVAL_MS=1000 AUDIT_VERIFY_INTERVAL_MS=300
	AUDIT_WITNESS_FILE="$WITNESS")
vt_start "${SERVER_ENV[@]}"

PW='correct horse battery staple'
ROUNDS=4 ROWS=50 # rows per org and round; each round ends sealed, so every org has >= 4 checkpoints

# sql SCRIPT: runs a psql script as the superuser in one session and one transaction (so that
# the background verification never sees half a tampering); prints its output.
sql() { psql_as postgres "$(vt_secret PG_SUPERUSER_PASSWORD)" -f - <<<"BEGIN;
$1
COMMIT;"; }

# The canonical row encoding (docs/audit.md §4), re-implemented in SQL so that an attacker can
# recompute leaf hashes: pg_temp functions, defined per session.
CANON_SQL="
CREATE FUNCTION pg_temp.s(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS \$\$
	SELECT CASE WHEN t IS NULL THEN '\\xffffffff'::bytea
		ELSE int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8') END \$\$;
CREATE FUNCTION pg_temp.u(x uuid) RETURNS bytea LANGUAGE sql IMMUTABLE AS \$\$
	SELECT CASE WHEN x IS NULL THEN '\\xffffffff'::bytea
		ELSE '\\x00000010'::bytea || uuid_send(x) END \$\$;
CREATE FUNCTION pg_temp.leaf(l audit_log) RETURNS bytea LANGUAGE sql AS \$\$
	SELECT sha256('\\x00'::bytea || 'VTAUDIT1'::bytea || pg_temp.u(l.id) || pg_temp.u(l.org_id) ||
		int8send((extract(epoch FROM l.time) * 1000000)::bigint) || pg_temp.s(l.actor_type) ||
		pg_temp.u(l.actor_id) || pg_temp.s(l.actor_email) || pg_temp.s(l.action) ||
		pg_temp.s(l.resource_type) || pg_temp.s(l.resource_id) || pg_temp.s(l.outcome) ||
		pg_temp.s(l.source_ip) || pg_temp.s(l.request_id) || pg_temp.s(l.detail)) \$\$;
"

# new_org NAME: registers NAME@tamper.example; sets TOK_<NAME> and ORG_<NAME>.
new_org() {
	api POST /api/auth/register "$(jq -nc --arg e "$1@tamper.example" --arg p "$PW" \
		'{email:$e,password:$p}')"
	expect_status 201 "register $1"
	printf -v "TOK_$1" '%s' "$(jq -r .token <<<"$BODY")"
	printf -v "ORG_$1" '%s' "$(jq -r .org.id <<<"$BODY")"
}

# gen_rows BEARER N OUTFILE: N audit rows (API_TOKEN_CREATED) through one curl process; the HTTP
# status counts go to OUTFILE ("201xN ").
gen_rows() {
	local f=$3.cfg i
	for ((i = 0; i < $2; i++)); do
		[ "$i" -eq 0 ] || echo next
		printf 'url = "%s/api/tokens"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\n' \
			"$VT_ADDR" "$1"
		printf 'header = "Content-Type: application/json"\noutput = "/dev/null"\n'
		printf 'data = "{\\"name\\":\\"gen\\",\\"scopes\\":[\\"audit:read\\"]}"\n'
		printf 'write-out = "%%{http_code}\\n"\n'
	done >"$f"
	curl -s -K "$f" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ' >"$3" || true
	rm -f "$f"
}
# gen NAME N: N rows in NAME's org, checked.
gen() {
	local tv=TOK_$1
	gen_rows "${!tv}" "$2" "$VT_TMP/gen.$1"
	expect_eq "201x$2 " "$(cat "$VT_TMP/gen.$1")" "$1: generate $2 rows"
}

# wait_sealed NAME...: every committed row of each org is indexed and sealed by a checkpoint.
wait_sealed() {
	local n ov ok
	for n in "$@"; do
		ov=ORG_$n ok=""
		for _ in $(seq 1 150); do
			ok=$(psql_super "SELECT s.size = s.checkpoint_size AND s.size =
				(SELECT count(*) FROM audit_log l WHERE l.org_id = s.org_id)
				FROM audit_log_state s WHERE s.org_id = '${!ov}'")
			[ "$ok" = t ] && break
			sleep 0.1
		done
		expect_eq t "$ok" "$n: every row is sequenced and sealed"
	done
}

# cp_sizes NAME: the org's checkpoint sizes, ascending, one a line.
cp_sizes() {
	local ov=ORG_$1
	psql_super "SELECT size FROM audit_checkpoints WHERE org_id = '${!ov}' ORDER BY size"
}
# nth_size NAME I: the size of the I-th checkpoint (1-based, ascending).
nth_size() { cp_sizes "$1" | sed -n "$2p"; }
# mid_index NAME: an index in the middle of the org's widest checkpoint range [prev, size), never
# its first or last (a row missing right before a checkpoint leaves the whole range in doubt).
mid_index() {
	local ov=ORG_$1
	psql_super "SELECT prev + (size - prev) / 2 FROM (SELECT size, coalesce(lag(size)
		OVER (ORDER BY size), 0) AS prev FROM audit_checkpoints WHERE org_id = '${!ov}') r
		WHERE size - prev >= 3 ORDER BY size - prev DESC, size LIMIT 1"
}
# range_start NAME K: the size of the last checkpoint at or below K (0 if none): where the
# checkpoint range holding index K starts.
range_start() {
	local ov=ORG_$1
	psql_super "SELECT coalesce(max(size), 0) FROM audit_checkpoints WHERE org_id = '${!ov}'
		AND size <= $2"
}

# pubkey NAME: sets PK_<NAME> (from the API, while the log is untouched).
pubkey() {
	local tv=TOK_$1
	api GET /api/audit/public-key "" "${!tv}"
	expect_status 200 "$1: public key"
	printf -v "PK_$1" '%s' "$(jq -r .public_key <<<"$BODY")"
}

# verify NAME [--witness FILE]: fresh export with NAME's token, offline verify with NAME's key
# (as fetched before the tampering); sets VOUT and VRC.
verify() {
	local n=$1 tv=TOK_$1 pv=PK_$1
	shift
	if ! VAULTTERM_TOKEN=${!tv} vt audit export -o "$VT_TMP/$n.bundle" 2>"$VT_TMP/export.err"; then
		fail "$n: audit export failed: $(cat "$VT_TMP/export.err")"
		VOUT="" VRC=99
		return 0
	fi
	VOUT=$(vt audit verify "$VT_TMP/$n.bundle" --public-key "${!pv}" "$@" 2>&1) && VRC=0 || VRC=$?
}

# expect_fail_at NAME INDEX ERE [--witness FILE]: verify prints "FAIL index INDEX: ..." matching
# ERE and exits 1.
expect_fail_at() {
	local n=$1 k=$2 ere=$3
	shift 3
	verify "$n" "$@"
	echo "($n${1:+ $1}) $VOUT"
	if [ "$VRC" = 1 ] && grep -qE "^FAIL index $k: " <<<"$VOUT"; then pass; else
		fail "($n) expected exit 1 and 'FAIL index $k: ...', got exit $VRC: $VOUT"
		return 0
	fi
	grep -qE -- "$ere" <<<"$VOUT" && pass || fail "($n) /$ere/ not in: $VOUT"
}

# expect_tamper_event NAME INDEX: the server records exactly one AUDIT_TAMPER_DETECTED in the org
# with detail.first_bad_index = INDEX (polled for up to 10 s).
expect_tamper_event() {
	local n=$1 k=$2 ov=ORG_$1 got=""
	for _ in $(seq 1 100); do
		got=$(psql_super "SELECT string_agg(detail::jsonb ->> 'first_bad_index', ',')
			FROM audit_log WHERE org_id = '${!ov}' AND action = 'AUDIT_TAMPER_DETECTED'")
		[ -n "$got" ] && break
		sleep 0.1
	done
	expect_eq "$k" "$got" "($n) the server's AUDIT_TAMPER_DETECTED names first_bad_index $k"
	expect_eq "system|failure|audit_log|t" "$(psql_super "SELECT actor_type, outcome, resource_type,
		detail::jsonb ? 'reason' FROM audit_log WHERE org_id = '${!ov}'
		AND action = 'AUDIT_TAMPER_DETECTED' LIMIT 1")" "($n) the tamper event's shape"
}

# ---- fresh logs ---------------------------------------------------------------------------------
CASES=(ctl a b b2 c d d2 e e2 f f2 g g2 h)
for n in "${CASES[@]}"; do new_org "$n"; done
for ((round = 0; round < ROUNDS; round++)); do
	pids=()
	for n in "${CASES[@]}"; do
		tv=TOK_$n
		gen_rows "${!tv}" "$ROWS" "$VT_TMP/gen.$n" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for n in "${CASES[@]}"; do
		expect_eq "201x$ROWS " "$(cat "$VT_TMP/gen.$n")" "$n: generate $ROWS rows (round $round)"
	done
	wait_sealed "${CASES[@]}"
done
for n in "${CASES[@]}"; do
	pubkey "$n"
	ncp=$(cp_sizes "$n" | wc -l)
	[ "$ncp" -ge 4 ] && pass || fail "$n: expected at least 4 checkpoints, got $ncp"
done

# The SQL re-implementation of the leaf hash agrees with the server on untouched rows.
expect_eq 0 "$(sql "$CANON_SQL
SELECT count(*) FROM audit_index i JOIN audit_log l ON l.id = i.audit_id
WHERE i.org_id = '$ORG_ctl' AND i.leaf_hash <> pg_temp.leaf(l);")" \
	"the SQL leaf hash matches every stored leaf hash of the control org"

# (h) a backup taken now, restored at the end.
PGPASSWORD=$(vt_secret PG_SUPERUSER_PASSWORD) pg_dump -Fc -h "$VT_DATA/run" -U postgres \
	-d vaultterm -f "$VT_TMP/early.dump"
[ -s "$VT_TMP/early.dump" ] && pass || fail "pg_dump wrote nothing"
H_SIZE_AT_DUMP=$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$ORG_h'")
gen h 60
wait_sealed h
gen h 60
wait_sealed h
[ "$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$ORG_h'
	AND size > $H_SIZE_AT_DUMP")" -ge 2 ] && pass || fail "(h) no checkpoints after the dump"

# Everything verifies before the tampering, with the witness file too.
for n in "${CASES[@]}"; do
	verify "$n" --witness "$WITNESS"
	sizes=$(cp_sizes "$n")
	expect_eq "OK $(tail -n1 <<<"$sizes") rows, $(wc -l <<<"$sizes") checkpoints" "$VOUT" \
		"$n verifies before the tampering"
done

# ---- the tampering: rows -------------------------------------------------------------------------
REPLICA="SET session_replication_role = replica;"
# idx_id NAME K: the audit row id at index K.
idx_id() {
	local ov=ORG_$1
	psql_super "SELECT audit_id FROM audit_index WHERE org_id = '${!ov}' AND idx = $2"
}

# (a) one field of one row.
K_a=123
sql "$REPLICA UPDATE audit_log SET detail = '{\"name\":\"innocent\",\"scopes\":[\"audit:read\"]}'
	WHERE id = '$(idx_id a $K_a)';" >/dev/null

# (b) a row deleted; its index entry stays (the export shows it missing).
K_b=77
sql "$REPLICA DELETE FROM audit_log WHERE id = '$(idx_id b $K_b)';" >/dev/null

# (b2) a row and its index entry deleted.
K_b2=$(mid_index b2)
id=$(idx_id b2 $K_b2)
sql "$REPLICA DELETE FROM audit_index WHERE org_id = '$ORG_b2' AND idx = $K_b2;
DELETE FROM audit_log WHERE id = '$id';" >/dev/null

# (c) two rows swapped: index 40 now names row 160's content and vice versa.
K_c=40 K_c2=160
id1=$(idx_id c $K_c) id2=$(idx_id c $K_c2)
sql "$REPLICA
UPDATE audit_index SET audit_id = gen_random_uuid() WHERE org_id = '$ORG_c' AND idx = $K_c;
UPDATE audit_index SET audit_id = '$id1' WHERE org_id = '$ORG_c' AND idx = $K_c2;
UPDATE audit_index SET audit_id = '$id2' WHERE org_id = '$ORG_c' AND idx = $K_c;" >/dev/null

# (d) a forged row in the place of index k; its txid is an old one, so the sequencer never picks
# it up as a new row.
# forge NAME K REHASH: inserts the forged row and points index K at it (REHASH=1: with a
# consistent leaf hash).
forge() {
	local ov=ORG_$1 old
	old=$(idx_id "$1" "$2")
	sql "$REPLICA $CANON_SQL
INSERT INTO audit_log (id, org_id, time, actor_type, action, resource_type, resource_id, outcome,
	detail, txid)
SELECT gen_random_uuid(), org_id, time, 'system', 'API_TOKEN_REVOKED', 'api_token', resource_id,
	'success', '{}', txid FROM audit_log WHERE id = '$old';
UPDATE audit_index i SET audit_id = f.id, leaf_hash = CASE WHEN $3 = 1 THEN pg_temp.leaf(f)
	ELSE i.leaf_hash END
FROM audit_log f WHERE f.org_id = '${!ov}' AND f.action = 'API_TOKEN_REVOKED'
	AND f.actor_type = 'system' AND i.org_id = '${!ov}' AND i.idx = $2;" >/dev/null
}
K_d=99
forge d $K_d 0
K_d2=$(mid_index d2)
forge d2 $K_d2 1
api GET "/api/audit/proof/inclusion?index=$K_d2" "" "$TOK_d2"
expect_status 200 "(d2) the server proves the forged row against its leaf hashes"
expect_eq "$(psql_super "SELECT encode(leaf_hash, 'hex') FROM audit_index WHERE org_id = '$ORG_d2'
	AND idx = $K_d2")" "$({ printf '\0'; jq -r .entry <<<"$BODY" | base64 -d; } | sha256sum | cut -d' ' -f1)" \
	"(d2) the recomputed leaf hash is the hash of the forged row the server serves"
expect_eq API_TOKEN_REVOKED "$(jq -r .entry <<<"$BODY" | base64 -d | grep -ao API_TOKEN_REVOKED)" \
	"(d2) the served row is the forged one"
START_d2=$(range_start d2 $K_d2)

# ---- the tampering: checkpoints ------------------------------------------------------------------
# (f) a middle checkpoint deleted: the next one's prev link breaks.
S_f=$(nth_size f 3)
sql "$REPLICA DELETE FROM audit_checkpoints WHERE org_id = '$ORG_f' AND size = $S_f;" >/dev/null
K_f=$(nth_size f 2)

# (f2) a checkpoint note edited (its counter line).
S_f2=$(nth_size f2 3)
sql "$REPLICA UPDATE audit_checkpoints SET note = regexp_replace(note, E'\ncounter ([0-9]+)\n',
	E'\ncounter 9\\\\1\n') WHERE org_id = '$ORG_f2' AND size = $S_f2;" >/dev/null
expect_eq t "$(psql_super "SELECT sha256(convert_to(split_part(note, E'\n\n', 1) || E'\n', 'UTF8'))
	<> text_hash FROM audit_checkpoints WHERE org_id = '$ORG_f2' AND size = $S_f2")" \
	"(f2) the note's text was edited"
K_f2=$(nth_size f2 2)

# (g) re-signed: the same text, signed by an attacker's Ed25519 key with the log's key name.
S_g=$(nth_size g 3)
ORIGIN_g=${PK_g%%+*}
openssl genpkey -algorithm ed25519 -out "$VT_TMP/evil.pem" 2>/dev/null
openssl pkey -in "$VT_TMP/evil.pem" -pubout -outform DER 2>/dev/null | tail -c 32 >"$VT_TMP/evil.pk"
psql_super "SELECT encode(convert_to(split_part(note, E'\n\n', 1) || E'\n', 'UTF8'), 'base64')
	FROM audit_checkpoints WHERE org_id = '$ORG_g' AND size = $S_g" | base64 -d >"$VT_TMP/g.text"
{ printf '%s\n\001' "$ORIGIN_g"; cat "$VT_TMP/evil.pk"; } | sha256sum | cut -c1-8 >"$VT_TMP/evil.id"
openssl pkeyutl -sign -inkey "$VT_TMP/evil.pem" -rawin -in "$VT_TMP/g.text" \
	-out "$VT_TMP/evil.sig" 2>/dev/null
# shellcheck disable=SC2059 # the format is the key id's bytes as \x escapes
evil_sig=$({ printf "$(sed 's/../\\x&/g' "$VT_TMP/evil.id")"; cat "$VT_TMP/evil.sig"; } | base64 -w0)
{ cat "$VT_TMP/g.text"; printf '\n— %s %s\n' "$ORIGIN_g" "$evil_sig"; } >"$VT_TMP/g.forged"
EVIL_VKEY="$ORIGIN_g+$(cat "$VT_TMP/evil.id")+$({ printf '\001'; cat "$VT_TMP/evil.pk"; } | base64 -w0)"
# The forgery is a well-formed note that the attacker's key does verify ...
VAULTTERM_TOKEN=$TOK_g vt audit prove 0 --checkpoint "$VT_TMP/g.forged" --public-key "$EVIL_VKEY" \
	>"$VT_TMP/g.prove" 2>&1 && pass || fail "(g) the forged note does not verify with the forging key: $(cat "$VT_TMP/g.prove")"
# ... and the genuine key does not.
VAULTTERM_TOKEN=$TOK_g vt audit prove 0 --checkpoint "$VT_TMP/g.forged" --public-key "$PK_g" \
	>"$VT_TMP/g.prove" 2>&1 && fail "(g) the genuine key accepts the forged note" || pass
sql "$REPLICA UPDATE audit_checkpoints SET note = convert_from(decode('$(base64 -w0 <"$VT_TMP/g.forged")',
	'base64'), 'UTF8') WHERE org_id = '$ORG_g' AND size = $S_g;" >/dev/null
K_g=$(nth_size g 2)

# (g2) another org's checkpoint note copied over this org's third checkpoint.
S_g2=$(nth_size g2 3)
sql "$REPLICA UPDATE audit_checkpoints t SET note = o.note FROM audit_checkpoints o
	WHERE t.org_id = '$ORG_g2' AND t.size = $S_g2 AND o.org_id = '$ORG_ctl'
	AND o.size = (SELECT size FROM audit_checkpoints WHERE org_id = '$ORG_ctl' ORDER BY size
		OFFSET 2 LIMIT 1);" >/dev/null
expect_eq "${PK_ctl%%+*}" "$(psql_super "SELECT split_part(note, E'\n', 1) FROM audit_checkpoints
	WHERE org_id = '$ORG_g2' AND size = $S_g2")" "(g2) the control org's note was copied in"
K_g2=$(nth_size g2 2)

# (e) the tail after the last checkpoint: new rows, deleted once sequenced but before they are
# sealed (AUDIT_CHECKPOINT_INTERVAL_MS=1000). One statement reads the state and deletes, so the
# expected index is exact whatever the sequencer does meanwhile.
K_e=""
for attempt in 1 2 3; do
	gen e 10
	for _ in $(seq 1 50); do
		[ "$(psql_super "SELECT size > checkpoint_size FROM audit_log_state
			WHERE org_id = '$ORG_e'")" = t ] && break
		sleep 0.02
	done
	res=$(sql "$REPLICA WITH s AS (SELECT checkpoint_size, size FROM audit_log_state
		WHERE org_id = '$ORG_e'),
	d AS (DELETE FROM audit_log WHERE id IN (SELECT i.audit_id FROM audit_index i, s
		WHERE i.org_id = '$ORG_e' AND i.idx >= s.checkpoint_size) RETURNING 1)
	SELECT s.checkpoint_size || ' ' || (SELECT count(*) FROM d) FROM s;")
	if [ "${res#* }" -gt 0 ]; then
		K_e=${res% *}
		break
	fi
done
[ -n "$K_e" ] && pass || fail "(e) could not delete an unsealed tail in 3 attempts"

# ---- offline verification and the server's findings -----------------------------------------------
expect_fail_at a "$K_a" 'altered'
expect_fail_at b "$K_b" 'row missing'
expect_fail_at b2 "$K_b2" "leaf $K_b2 is missing"
expect_fail_at c "$K_c" 'altered'
expect_fail_at d "$K_d" 'altered'
expect_fail_at d2 "$START_d2" 'root does not match'
[ "$START_d2" -lt "$K_d2" ] && pass || fail "(d2) index $K_d2 should be inside a range, start $START_d2"
expect_fail_at e "${K_e:-none}" 'row missing'
expect_fail_at f "$K_f" 'prev link'
expect_fail_at f2 "$K_f2" 'signature'
expect_fail_at g "$K_g" 'signature'
expect_fail_at g2 "$K_g2" 'signature'
# With the witness file, the first finding is the same for these (the witness agrees up to it).
expect_fail_at a "$K_a" 'altered' --witness "$WITNESS"
expect_fail_at f "$K_f" '' --witness "$WITNESS"

for n in a b b2 c d d2 e f f2 g g2; do
	kv=K_$n
	[ "$n" = d2 ] && kv=START_d2
	expect_tamper_event "$n" "${!kv:-none}"
done

# The control org: untouched, verifies, no finding.
verify ctl --witness "$WITNESS"
[ "$VRC" = 0 ] && grep -qE '^OK [0-9]+ rows, [0-9]+ checkpoints$' <<<"$VOUT" && pass ||
	fail "(ctl) the untouched org must verify: $VOUT"
for n in ctl e2 h; do
	ov=ORG_$n
	expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '${!ov}'
		AND action = 'AUDIT_TAMPER_DETECTED'")" "($n) untouched: no tamper event"
done
grep -q 'AUDIT_TAMPER_DETECTED' "$VT_LOG" && pass || fail "the server log has no AUDIT_TAMPER_DETECTED line"

# ---- (e2) truncated before the last checkpoint: a rollback ----------------------------------------
# wait_quiet: every row the sequencer will ever take is taken, and every org's log is sealed.
wait_quiet() {
	local ok=""
	for _ in $(seq 1 150); do
		ok=$(psql_super "SELECT NOT EXISTS (SELECT 1 FROM audit_log l, audit_sequencer q
			WHERE l.org_id IS NOT NULL AND (l.txid, l.seq) > (q.last_txid, q.last_seq))
			AND NOT EXISTS (SELECT 1 FROM audit_log_state WHERE size > checkpoint_size)")
		[ "$ok" = t ] && break
		sleep 0.1
	done
	expect_eq t "$ok" "every org's log is sequenced and sealed"
}
# Every finding above is recorded and sealed; then e2's newest checkpoint carries the newest
# counter of the deployment, so cutting it off puts the database behind the license file.
wait_quiet
E2_TARGET=$(nth_size e2 2)
for attempt in 1 2 3; do
	gen e2 60
	wait_sealed e2
	E2_OLD_SIZE=$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$ORG_e2'")
	sql "$REPLICA
DO \$\$ BEGIN
	IF (SELECT max(counter) FROM audit_checkpoints WHERE org_id = '$ORG_e2') <>
		(SELECT max(counter) FROM audit_checkpoints) THEN
		RAISE EXCEPTION 'e2 does not hold the newest counter';
	END IF;
END \$\$;
DELETE FROM audit_log WHERE id IN (SELECT audit_id FROM audit_index WHERE org_id = '$ORG_e2'
	AND idx >= $E2_TARGET);
DELETE FROM audit_index WHERE org_id = '$ORG_e2' AND idx >= $E2_TARGET;
UPDATE audit_log_state s SET size = c.size, frontier = c.frontier, checkpoint_size = c.size,
	checkpoint_hash = c.text_hash, checkpoint_counter = c.counter, unsealed_since = NULL
	FROM audit_checkpoints c WHERE s.org_id = '$ORG_e2' AND c.org_id = s.org_id
	AND c.size = $E2_TARGET;
DELETE FROM audit_checkpoints WHERE org_id = '$ORG_e2' AND size > $E2_TARGET;" \
		>/dev/null 2>"$VT_TMP/e2.err" && break
	echo "(e2) attempt $attempt: $(cat "$VT_TMP/e2.err")" >&2
done
expect_eq "$E2_TARGET" "$(psql_super "SELECT max(size) FROM audit_checkpoints WHERE org_id = '$ORG_e2'")" \
	"(e2) the later checkpoints are gone"
[ "$E2_TARGET" -lt "$E2_OLD_SIZE" ] && pass || fail "(e2) nothing was truncated"

got=""
for _ in $(seq 1 100); do
	got=$(psql_super "SELECT count(*) FROM audit_log WHERE org_id IS NULL
		AND action = 'AUDIT_ROLLBACK_DETECTED'")
	[ "$got" -ge 1 ] && break
	sleep 0.1
done
expect_eq 1 "$got" "(e2) the server records one system AUDIT_ROLLBACK_DETECTED row"
expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG_e2'
	AND action = 'AUDIT_ROLLBACK_DETECTED'")" "(e2) ... and one in the org"
expect_eq "$(psql_super "SELECT count(DISTINCT org_id) FROM audit_checkpoints")" \
	"$(psql_super "SELECT count(DISTINCT org_id) FROM audit_log WHERE org_id IS NOT NULL
		AND action = 'AUDIT_ROLLBACK_DETECTED'")" "(e2) ... and one in every org with a chain"
expect_eq t "$(psql_super "SELECT (detail::jsonb ->> 'license_counter')::bigint >
	(detail::jsonb ->> 'database_counter')::bigint FROM audit_log WHERE org_id IS NULL
	AND action = 'AUDIT_ROLLBACK_DETECTED'")" "(e2) the event says the counter went back"
health=""
for _ in $(seq 1 30); do
	api GET /health
	health=$(jq -r .audit <<<"$BODY")
	[ "$health" = rollback_detected ] && break
	sleep 0.1
done
expect_eq rollback_detected "$health" "(e2) /health reports the rollback"
expect_status 200 "(e2) development: /health still answers 200"
api GET /api/audit/public-key "" "$TOK_ctl"
expect_status 200 "(e2) development: the API keeps serving"
verify e2
[ "$VRC" = 0 ] && grep -qE "^OK " <<<"$VOUT" && pass ||
	fail "(e2) a consistent truncation verifies without a witness: $VOUT"
verify e2 --witness "$WITNESS"
[ "$VRC" = 1 ] && grep -qE '^FAIL index [0-9]+: .*witness' <<<"$VOUT" && pass ||
	fail "(e2) --witness must FAIL: exit $VRC: $VOUT"

# ---- (h) an older pg_dump restored ---------------------------------------------------------------
vt_stop
vt_start "${SERVER_ENV[@]}" AUDIT_SEQUENCER=off
PGPASSWORD=$(vt_secret PG_SUPERUSER_PASSWORD) pg_restore --clean --if-exists \
	-h "$VT_DATA/run" -U postgres -d vaultterm "$VT_TMP/early.dump" \
	>"$VT_TMP/restore.log" 2>&1 && pass || fail "(h) pg_restore: $(tail -n 20 "$VT_TMP/restore.log")"
health=""
for _ in $(seq 1 50); do
	api GET /health
	health=$(jq -r .audit <<<"$BODY")
	[ "$health" = standby ] && break
	sleep 0.1
done
expect_eq standby "$health" "(h) AUDIT_SEQUENCER=off, the restored halt state: standby"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action = 'AUDIT_ROLLBACK_DETECTED'")" \
	"(h) the restored database predates every rollback event"
expect_eq "$H_SIZE_AT_DUMP" "$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$ORG_h'")" \
	"(h) the restored log is the old one"
vt_stop
vt_start "${SERVER_ENV[@]}"
got=""
for _ in $(seq 1 100); do
	got=$(psql_super "SELECT count(*) FROM audit_log WHERE org_id IS NULL
		AND action = 'AUDIT_ROLLBACK_DETECTED'")
	[ "$got" -ge 1 ] && break
	sleep 0.1
done
expect_eq 1 "$got" "(h) the restarted server records AUDIT_ROLLBACK_DETECTED (system row)"
expect_eq 1 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$ORG_h'
	AND action = 'AUDIT_ROLLBACK_DETECTED'")" "(h) ... and in the org"
grep -q 'AUDIT_ROLLBACK_DETECTED' "$VT_LOG" && pass || fail "(h) the server does not log the rollback"
health=""
for _ in $(seq 1 30); do
	api GET /health
	health=$(jq -r .audit <<<"$BODY")
	[ "$health" = rollback_detected ] && break
	sleep 0.1
done
expect_eq rollback_detected "$health" "(h) /health reports the rollback"
verify h
[ "$VRC" = 0 ] && pass || fail "(h) the restored log is consistent by itself: $VOUT"
verify h --witness "$WITNESS"
[ "$VRC" = 1 ] && grep -qE '^FAIL index [0-9]+: .*witness' <<<"$VOUT" && pass ||
	fail "(h) --witness must FAIL on the restored log: exit $VRC: $VOUT"

finish
