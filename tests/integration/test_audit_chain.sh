#!/usr/bin/env bash
# The tamper-evident audit chain, end to end on an untouched database: two orgs with activity,
# sealed by the sequencer into signed, hash-linked checkpoints (docs/audit.md §7):
#  - every org's rows get the indexes 0..n-1 (no gap, no duplicate), as audit_index says; a row
#    of a transaction that commits late is indexed after it commits, never skipped;
#  - the latest checkpoint note and the public key describe the org's log;
#  - `vaultterm audit export` + `audit verify --public-key` (offline) accept the bundle with the
#    right row and checkpoint counts, also from stdin, with a key file and with the witness file;
#    they refuse another org's key and an edited bundle;
#  - `audit checkpoint -o` + `audit prove` accept several indexes (also against an older
#    checkpoint) and refuse an edited checkpoint file or another org's key;
#  - the proof endpoints: each org reads only its own log (an index beyond its size is 400),
#    malformed query values are 400, no credentials 401, a member and a token without audit:read
#    403, an admin, an audit:read or admin token 200; inclusion proofs hash to the stored leaf
#    hashes;
#  - checkpoints: sizes and counters strictly increase, each prev_hash is the text hash of the
#    previous checkpoint, and the witness file has exactly one line per checkpoint.
. "$(dirname "$0")/lib.sh"

WITNESS=$VT_TMP/witness.log
vt_start AUDIT_CHECKPOINT_ROWS=20 AUDIT_CHECKPOINT_INTERVAL_MS=300 AUDIT_VERIFY_INTERVAL_MS=300 \
	AUDIT_WITNESS_FILE="$WITNESS"

PW='correct horse battery staple'
SUPER_PW=$(vt_secret PG_SUPERUSER_PASSWORD)
HOLD_PID=""
# Our own background process (a psql session) goes before lib.sh's cleanup.
chain_cleanup() {
	local rc=$?
	set +e
	[ -z "$HOLD_PID" ] || kill "$HOLD_PID" 2>/dev/null
	(exit "$rc")
	vt_cleanup # reads the test's exit status from $?
}
trap chain_cleanup EXIT

# cli WANT_RC WHAT ARGS...: runs the CLI (stdin from $CLI_IN_FILE, else /dev/null); sets OUT, ERR
# and RC and checks the exit code.
cli() {
	local want=$1 what=$2
	shift 2
	OUT=$(vt "$@" 2>"$VT_TMP/cli.err" <"${CLI_IN_FILE:-/dev/null}") && RC=0 || RC=$?
	ERR=$(cat "$VT_TMP/cli.err")
	if [ "$RC" = "$want" ]; then pass; else
		fail "$what: vaultterm $*: expected exit $want, got $RC; stdout: $OUT; stderr: $ERR"
	fi
}
out_has() { if grep -qE -- "$1" <<<"$OUT"; then pass; else fail "$2: /$1/ not in stdout: $OUT"; fi; }

# reg EMAIL: registers; sets REG_TOKEN, REG_ORG.
reg() {
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$PW" '{email:$e,password:$p}')"
	expect_status 201 "register $1"
	REG_TOKEN=$(jq -r .token <<<"$BODY")
	REG_ORG=$(jq -r .org.id <<<"$BODY")
}

# gen_rows BEARER N: N audit rows (API_TOKEN_CREATED) through one curl process.
gen_rows() {
	local f=$VT_TMP/gen.$BASHPID i
	for ((i = 0; i < $2; i++)); do
		[ "$i" -eq 0 ] || echo next
		printf 'url = "%s/api/tokens"\nrequest = "POST"\nheader = "Authorization: Bearer %s"\n' \
			"$VT_ADDR" "$1"
		printf 'header = "Content-Type: application/json"\noutput = "/dev/null"\n'
		printf 'data = "{\\"name\\":\\"gen\\",\\"scopes\\":[\\"audit:read\\"]}"\n'
		printf 'write-out = "%%{http_code}\\n"\n'
	done >"$f"
	local codes
	codes=$(curl -s -K "$f" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
	rm -f "$f"
	expect_eq "201x$2 " "$codes" "generate $2 rows"
}

# wait_sealed ORG...: every committed row of each org is indexed and sealed by a checkpoint.
wait_sealed() {
	local org ok
	for org in "$@"; do
		ok=""
		for _ in $(seq 1 150); do
			ok=$(psql_super "SELECT s.size = s.checkpoint_size AND s.size =
				(SELECT count(*) FROM audit_log l WHERE l.org_id = s.org_id)
				FROM audit_log_state s WHERE s.org_id = '$org'")
			[ "$ok" = t ] && break
			sleep 0.1
		done
		expect_eq t "$ok" "org $org: every row is sequenced and sealed"
	done
}

# hexsha256: SHA-256 of stdin in lower-case hex.
hexsha256() { sha256sum | cut -d' ' -f1; }
b64hex() { base64 -d | od -An -v -tx1 | tr -d ' \n'; }

# ---- activity in two orgs -----------------------------------------------------------------------
reg alice@chain.example
A_TOKEN=$REG_TOKEN A_ORG=$REG_ORG
reg bob@chain.example
B_TOKEN=$REG_TOKEN B_ORG=$REG_ORG
# Each wait_sealed below ends with a checkpoint: every org gets at least three.
wait_sealed "$A_ORG" "$B_ORG"

api POST /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$A_TOKEN"
expect_status 201 "A: audit:read token"
A_CI=$(jq -r .token <<<"$BODY")
api POST /api/tokens '{"name":"deploy","scopes":["vault:read"]}' "$A_TOKEN"
expect_status 201 "A: vault:read token"
A_NOAUDIT=$(jq -r .token <<<"$BODY")
api POST /api/tokens '{"name":"tmp","scopes":["audit:read"]}' "$A_TOKEN"
tmp_id=$(jq -r .id <<<"$BODY")
api DELETE "/api/tokens/$tmp_id" "" "$A_TOKEN"
expect_status 204 "A: revoke a token"
api POST /api/auth/login "$(jq -nc '{email:"alice@chain.example",password:"wrong password here"}')"
expect_status 401 "A: a failed login (audited in A)"
api POST /api/orgs/current/invites '{"email":"carol@chain.example","org_role":"member"}' "$A_TOKEN"
expect_status 201 "A invites carol"
invite=$(jq -r .invite_token <<<"$BODY")
api POST /api/auth/accept-invite "$(jq -nc --arg t "$invite" --arg p "$PW" \
	'{invite_token:$t,password:$p}')"
expect_status 200 "carol accepts (member of A)"
CAROL=$(jq -r .token <<<"$BODY")
api POST /api/orgs/current/invites '{"email":"erin@chain.example","org_role":"admin"}' "$A_TOKEN"
expect_status 201 "A invites erin as admin"
invite=$(jq -r .invite_token <<<"$BODY")
api POST /api/auth/accept-invite "$(jq -nc --arg t "$invite" --arg p "$PW" \
	'{invite_token:$t,password:$p}')"
expect_status 200 "erin accepts (admin of A)"
ERIN=$(jq -r .token <<<"$BODY")
api POST /api/tokens '{"name":"ops","scopes":["admin"]}' "$A_TOKEN"
expect_status 201 "A: admin-scoped token"
A_ADMINTOK=$(jq -r .token <<<"$BODY")
api POST /api/vault/vaults '{"name":"prod"}' "$A_TOKEN"
expect_status 201 "A: vault"
vault=$(jq -r .id <<<"$BODY")
api POST "/api/vault/vaults/$vault/secrets" \
	'{"type":"PASSWORD","name":"db","fields":{"password":"chain-canary"}}' "$A_TOKEN"
expect_status 201 "A: secret"
secret=$(jq -r .id <<<"$BODY")
api POST "/api/vault/secrets/$secret/reveal" '{"reason":"chain test"}' "$A_TOKEN"
expect_status 200 "A: reveal"
gen_rows "$A_TOKEN" 45
gen_rows "$B_TOKEN" 25
wait_sealed "$A_ORG" "$B_ORG"
gen_rows "$A_TOKEN" 5
gen_rows "$B_TOKEN" 5
wait_sealed "$A_ORG" "$B_ORG"

api GET /health
expect_jq '.audit == "sequencing"' "/health: this server sequences"

# ---- indexes: 0..n-1 per org, as in audit_index ----------------------------------------------------
for who in A B; do
	org_var=${who}_ORG tok_var=${who}_TOKEN
	org=${!org_var} tok=${!tok_var}
	api GET "/api/audit?limit=500" "" "$tok"
	expect_status 200 "$who: GET /api/audit"
	expect_jq '.next_cursor == null' "$who: one page holds the whole log"
	expect_jq '[.items[].index] | sort == [range(0; length)]' \
		"$who: indexes are exactly 0..n-1 (no null, gap or duplicate)"
	n=$(jq '.items | length' <<<"$BODY")
	expect_eq "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$org'")" "$n" \
		"$who: the API lists every row of the org"
	expect_eq "$(psql_super "SELECT string_agg(idx || ':' || audit_id, ',' ORDER BY idx)
		FROM audit_index WHERE org_id = '$org'")" \
		"$(jq -r '[.items | sort_by(.index)[] | "\(.index):\(.id)"] | join(",")' <<<"$BODY")" \
		"$who: index → row as in audit_index"
	eval "${who}_N=$n"
done
[ "$A_N" -gt 50 ] && [ "$B_N" -gt 25 ] && pass || fail "row counts too small: A $A_N, B $B_N"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_index i JOIN audit_log l ON l.id = i.audit_id
	WHERE i.org_id IS DISTINCT FROM l.org_id")" "every indexed row is in its own org's log"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log l WHERE l.org_id IS NULL AND
	EXISTS (SELECT 1 FROM audit_index i WHERE i.audit_id = l.id)")" "system rows are never indexed"

# ---- public key and the latest checkpoint --------------------------------------------------------
for who in A B; do
	org_var=${who}_ORG tok_var=${who}_TOKEN
	org=${!org_var} tok=${!tok_var}
	api GET /api/audit/public-key "" "$tok"
	expect_status 200 "$who: public key"
	expect_jq ".algorithm == \"ed25519\" and (.origin | test(\"^[A-Za-z0-9][A-Za-z0-9._-]*/audit/$org\$\"))" \
		"$who: origin is <deployment>/audit/<org>"
	expect_jq '.origin as $o | .public_key | startswith($o + "+")' "$who: the key is named by the origin"
	expect_jq '.public_key | test("\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$")' "$who: Go vkey encoding"
	eval "${who}_ORIGIN=\$(jq -r .origin <<<\"\$BODY\") ${who}_PK=\$(jq -r .public_key <<<\"\$BODY\")"
done
[ "$A_PK" != "$B_PK" ] && pass || fail "two orgs share one public key"

api GET /api/audit/checkpoints/latest "" "$A_TOKEN"
expect_status 200 "A: latest checkpoint"
LATEST=$BODY
ctype=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $A_TOKEN" \
	"$VT_ADDR/api/audit/checkpoints/latest" | tr -d '\r' | grep -i '^content-type:' || true)
grep -qi 'text/plain' <<<"$ctype" && pass || fail "latest checkpoint is not text/plain: $ctype"
expect_eq "$A_ORIGIN" "$(sed -n 1p <<<"$LATEST")" "latest note: line 1 is the origin"
expect_eq "$A_N" "$(sed -n 2p <<<"$LATEST")" "latest note: line 2 is the sealed size"
expect_eq "$(psql_super "SELECT encode(root, 'hex') FROM audit_checkpoints
	WHERE org_id = '$A_ORG' ORDER BY size DESC LIMIT 1")" "$(sed -n 3p <<<"$LATEST" | b64hex)" \
	"latest note: line 3 is the root"
expect_eq "prev $(psql_super "SELECT encode(prev_hash, 'hex') FROM audit_checkpoints
	WHERE org_id = '$A_ORG' ORDER BY size DESC LIMIT 1")" "$(sed -n 4p <<<"$LATEST")" \
	"latest note: line 4 links the previous checkpoint"
expect_eq "counter $(psql_super "SELECT counter FROM audit_checkpoints WHERE org_id = '$A_ORG'
	ORDER BY size DESC LIMIT 1")" "$(sed -n 5p <<<"$LATEST")" "latest note: line 5 is the counter"
sed -n 6p <<<"$LATEST" | grep -qE '^time [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' &&
	pass || fail "latest note: line 6 is not a time line: $LATEST"
expect_eq "" "$(sed -n 7p <<<"$LATEST")" "latest note: a blank line ends the text"
sed -n 8p <<<"$LATEST" | grep -qE "^— $A_ORIGIN [A-Za-z0-9+/]{91}=\$" &&
	pass || fail "latest note: line 8 is not the origin's signature: $(sed -n 8p <<<"$LATEST")"
expect_eq "$(psql_super "SELECT note FROM audit_checkpoints WHERE org_id = '$A_ORG'
	ORDER BY size DESC LIMIT 1")" "$LATEST" "latest note is the newest stored checkpoint"

# ---- checkpoints: paginated list, sizes/counters increase, prev links ------------------------------
for who in A B; do
	org_var=${who}_ORG tok_var=${who}_TOKEN origin_var=${who}_ORIGIN n_var=${who}_N
	org=${!org_var} tok=${!tok_var} origin=${!origin_var} n=${!n_var}
	all='[]' cursor="" pages=0
	while :; do
		api GET "/api/audit/checkpoints?limit=2${cursor:+&cursor=$cursor}" "" "$tok"
		expect_status 200 "$who: checkpoints page $pages"
		[ "$STATUS" = 200 ] || break
		all=$(jq -c --argjson a "$all" '$a + .checkpoints' <<<"$BODY")
		cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
		pages=$((pages + 1))
		[ -n "$cursor" ] && [ "$pages" -lt 100 ] || break
	done
	ncp=$(jq length <<<"$all")
	expect_eq "$(psql_super "SELECT count(*) FROM audit_checkpoints WHERE org_id = '$org'")" \
		"$ncp" "$who: the paginated list has every checkpoint"
	[ "$ncp" -ge 3 ] && pass || fail "$who: expected several checkpoints, got $ncp"
	eval "${who}_NCP=$ncp"
	jq -e '[.[].size] as $s | all(range(1; $s | length); $s[.] > $s[. - 1])' <<<"$all" >/dev/null &&
		pass || fail "$who: checkpoint sizes do not strictly increase: $all"
	jq -e '[.[].counter] as $c | all(range(1; $c | length); $c[.] > $c[. - 1]) and $c[0] >= 1' \
		<<<"$all" >/dev/null && pass || fail "$who: counters do not strictly increase"
	expect_eq "$n" "$(jq '.[-1].size' <<<"$all")" "$who: the last checkpoint seals the whole log"
	expect_eq null "$(jq '.[0].prev_hash' <<<"$all")" "$who: the first checkpoint has no prev"
	links_ok=1 prev=""
	for ((i = 0; i < ncp; i++)); do
		note=$(jq -r ".[$i].note" <<<"$all")
		[ "$(sed -n 1p <<<"$note")" = "$origin" ] || { links_ok=0; fail "$who: #$i origin"; }
		[ "$(sed -n 2p <<<"$note")" = "$(jq ".[$i].size" <<<"$all")" ] ||
			{ links_ok=0; fail "$who: #$i size line"; }
		[ "$(sed -n 3p <<<"$note" | b64hex)" = "$(jq -r ".[$i].root" <<<"$all")" ] ||
			{ links_ok=0; fail "$who: #$i root line"; }
		[ "$(sed -n 5p <<<"$note")" = "counter $(jq ".[$i].counter" <<<"$all")" ] ||
			{ links_ok=0; fail "$who: #$i counter line"; }
		if [ "$i" -gt 0 ]; then
			[ "$(jq -r ".[$i].prev_hash" <<<"$all")" = "$prev" ] ||
				{ links_ok=0; fail "$who: checkpoint #$i prev_hash is not the text hash of #$((i - 1))"; }
			[ "$(sed -n 4p <<<"$note")" = "prev $prev" ] ||
				{ links_ok=0; fail "$who: checkpoint #$i prev line"; }
		else
			[ "$(sed -n 4p <<<"$note")" = "prev none" ] || { links_ok=0; fail "$who: #0 prev line"; }
		fi
		# The text: everything before the blank line that precedes the signatures.
		prev=$(jq -j ".[$i].note | split(\"\n\n\")[0] + \"\n\"" <<<"$all" | hexsha256)
	done
	[ "$links_ok" = 1 ] && pass
	expect_eq "$(psql_super "SELECT string_agg(encode(text_hash, 'hex'), ',' ORDER BY size)
		FROM audit_checkpoints WHERE org_id = '$org'")" \
		"$(for ((i = 0; i < ncp; i++)); do
			jq -j ".[$i].note | split(\"\n\n\")[0] + \"\n\"" <<<"$all" | hexsha256
		done | paste -sd,)" "$who: stored text hashes are SHA-256 of each note's text"
	expect_eq "$(psql_super "SELECT counter FROM audit_checkpoints WHERE org_id = '$org'
		ORDER BY size DESC LIMIT 1")" "$(psql_super "SELECT checkpoint_counter FROM audit_log_state
		WHERE org_id = '$org'")" "$who: the log state names the newest checkpoint's counter"
done
# Counters are deployment-wide: two checkpoints of different orgs share one only when sealed in
# the same cycle; within an org they are unique.
expect_eq 0 "$(psql_super "SELECT count(*) FROM (SELECT org_id, counter FROM audit_checkpoints
	GROUP BY 1, 2 HAVING count(*) > 1) d")" "counters are unique within each org"
expect_eq "$(psql_super "SELECT max(counter) FROM audit_checkpoints")" \
	"$(sed -n 2p "$VT_DATA/license-state" | cut -d' ' -f2)" \
	"the license state file committed the newest counter"

# ---- the witness file: one line per checkpoint -----------------------------------------------------
total=$(psql_super "SELECT count(*) FROM audit_checkpoints")
for _ in $(seq 1 50); do
	[ "$(wc -l <"$WITNESS" 2>/dev/null || echo 0)" -ge "$total" ] && break
	sleep 0.1
done
expect_eq "$total" "$(wc -l <"$WITNESS")" "witness file: one line per checkpoint"
expect_eq 0 "$(grep -cvE '^checkpoint [A-Za-z0-9][A-Za-z0-9._-]*/audit/[0-9a-f-]{36} [A-Za-z0-9+/]+=*$' \
	"$WITNESS" || true)" "witness file: every line is 'checkpoint <origin> <base64 note>'"
for who in A B; do
	org_var=${who}_ORG origin_var=${who}_ORIGIN
	expect_eq "$(psql_super "SELECT string_agg(translate(encode(convert_to(note, 'UTF8'), 'base64'),
		E'\n', ''), ',' ORDER BY size) FROM audit_checkpoints WHERE org_id = '${!org_var}'")" \
		"$(awk -v o="${!origin_var}" '$2 == o {print $3}' "$WITNESS" | paste -sd,)" \
		"$who: the witness lines are its checkpoints, in order"
done

# ---- export + offline verify ---------------------------------------------------------------------
A_BUNDLE=$VT_TMP/a.bundle
VAULTTERM_TOKEN=$A_CI cli 0 "export -o (audit:read token)" audit export -o "$A_BUNDLE"
expect_eq 600 "$(stat -c %a "$A_BUNDLE" 2>/dev/null)" "the bundle file is 0600"
expect_eq "vaultterm-audit-bundle 1" "$(sed -n 1p "$A_BUNDLE")" "bundle magic"
expect_eq "origin $A_ORIGIN" "$(sed -n 2p "$A_BUNDLE")" "bundle origin"
expect_eq "vkey $A_PK" "$(sed -n 3p "$A_BUNDLE")" "bundle vkey"
expect_eq "end $A_N $A_NCP" "$(tail -n1 "$A_BUNDLE")" "bundle end line"
expect_eq "$A_N" "$(grep -c '^leaf ' "$A_BUNDLE")" "bundle: one leaf line per row"
expect_eq "$A_NCP" "$(grep -c '^checkpoint ' "$A_BUNDLE")" "bundle: one line per checkpoint"
# Each checkpoint line stands right after the leaf of index size-1.
expect_eq "$(psql_super "SELECT string_agg((size - 1)::text, ',' ORDER BY size) FROM audit_checkpoints
	WHERE org_id = '$A_ORG'")" \
	"$(awk '/^checkpoint /{print last} /^leaf /{last=$2}' "$A_BUNDLE" | paste -sd,)" \
	"bundle: checkpoints right after the last row they cover"
expect_eq "$(psql_super "SELECT string_agg(encode(leaf_hash, 'hex'), ',' ORDER BY idx)
	FROM audit_index WHERE org_id = '$A_ORG'")" \
	"$(awk '/^leaf /{print $3}' "$A_BUNDLE" | paste -sd,)" "bundle: the stored leaf hashes"
VAULTTERM_TOKEN=$A_TOKEN cli 0 "export to stdout" audit export
expect_eq "$(cat "$A_BUNDLE")" "$OUT" "export to stdout = export -o"
api GET /api/audit/export "" "$A_TOKEN"
expect_status 200 "GET /api/audit/export"
expect_eq "$(cat "$A_BUNDLE")" "$BODY" "the CLI writes the server's bundle"

cli 0 "verify A's bundle with A's key" audit verify "$A_BUNDLE" --public-key "$A_PK"
expect_eq "OK $A_N rows, $A_NCP checkpoints" "$OUT" "verify output"
CLI_IN_FILE=$A_BUNDLE cli 0 "verify from stdin" audit verify - --public-key "$A_PK"
expect_eq "OK $A_N rows, $A_NCP checkpoints" "$OUT" "verify - output"
echo "$A_PK" >"$VT_TMP/a.pub"
cli 0 "verify with a key file" audit verify "$A_BUNDLE" --public-key "$VT_TMP/a.pub"
cli 0 "verify --witness" audit verify "$A_BUNDLE" --public-key "$A_PK" --witness "$WITNESS"
expect_eq "OK $A_N rows, $A_NCP checkpoints" "$OUT" "verify --witness output"
cli 1 "verify A's bundle with B's key" audit verify "$A_BUNDLE" --public-key "$B_PK"
out_has '^FAIL' "another org's key: FAIL"
cli 1 "verify A's bundle with B's key and the witness" audit verify "$A_BUNDLE" \
	--public-key "$B_PK" --witness "$WITNESS"
out_has '^FAIL' "another org's key with the witness: FAIL"
cli 2 "verify without --public-key" audit verify "$A_BUNDLE"
# An edited bundle: one hex digit of leaf 5's hash.
awk '$1 == "leaf" && $2 == "5" { c = substr($3, 1, 1); $3 = (c == "0" ? "1" : "0") substr($3, 2) }
	{ print }' "$A_BUNDLE" >"$VT_TMP/a-edited.bundle"
[ "$(cmp -s "$A_BUNDLE" "$VT_TMP/a-edited.bundle"; echo $?)" = 1 ] && pass || fail "bundle edit did not happen"
cli 1 "verify an edited bundle" audit verify "$VT_TMP/a-edited.bundle" --public-key "$A_PK"
out_has '^FAIL index 5: ' "edited leaf 5: FAIL index 5"
head -n 20 "$A_BUNDLE" >"$VT_TMP/a-cut.bundle"
cli 1 "verify a truncated bundle" audit verify "$VT_TMP/a-cut.bundle" --public-key "$A_PK"
out_has '^FAIL' "truncated bundle: FAIL"

B_BUNDLE=$VT_TMP/b.bundle
VAULTTERM_TOKEN=$B_TOKEN cli 0 "B: export" audit export -o "$B_BUNDLE"
expect_eq "origin $B_ORIGIN" "$(sed -n 2p "$B_BUNDLE")" "B's export is B's log"
expect_eq 0 "$(grep -c "$A_ORG" "$B_BUNDLE" || true)" "B's export does not name A"
cli 0 "verify B's bundle (--witness)" audit verify "$B_BUNDLE" --public-key "$B_PK" --witness "$WITNESS"
expect_eq "OK $B_N rows, $B_NCP checkpoints" "$OUT" "B verify output"
cli 1 "verify B's bundle with A's key" audit verify "$B_BUNDLE" --public-key "$A_PK"
out_has '^FAIL' "B's bundle with A's key: FAIL"

# ---- checkpoint + prove --------------------------------------------------------------------------
A_CP=$VT_TMP/a.checkpoint
VAULTTERM_TOKEN=$A_TOKEN cli 0 "checkpoint -o" audit checkpoint -o "$A_CP"
expect_eq "$LATEST" "$(cat "$A_CP")" "checkpoint -o saves the latest note"
expect_eq "" "$(tail -c1 "$A_CP" | tr -d '\n')" "the saved note ends in a newline"
for i in 0 1 $((A_N / 2)) $((A_N - 2)) $((A_N - 1)); do
	VAULTTERM_TOKEN=$A_TOKEN cli 0 "prove $i" audit prove "$i" --checkpoint "$A_CP" --public-key "$A_PK"
	out_has "^OK index $i is in the log of size $A_N " "prove $i output"
done
VAULTTERM_TOKEN=$A_CI cli 0 "prove with an audit:read token and a key file" \
	audit prove 3 --checkpoint "$A_CP" --public-key "$VT_TMP/a.pub"
VAULTTERM_TOKEN=$A_TOKEN cli 1 "prove an index beyond the checkpoint" \
	audit prove "$A_N" --checkpoint "$A_CP" --public-key "$A_PK"
sed 's/^counter \([0-9]*\)$/counter 9\1/' "$A_CP" >"$VT_TMP/a-edited.checkpoint"
[ "$(cmp -s "$A_CP" "$VT_TMP/a-edited.checkpoint"; echo $?)" = 1 ] && pass || fail "checkpoint edit did not happen"
VAULTTERM_TOKEN=$A_TOKEN cli 1 "prove against an edited checkpoint" \
	audit prove 1 --checkpoint "$VT_TMP/a-edited.checkpoint" --public-key "$A_PK"
out_has '^FAIL' "edited checkpoint: FAIL"
awk 'NR == 3 { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2) } { print }' \
	"$A_CP" >"$VT_TMP/a-root.checkpoint"
VAULTTERM_TOKEN=$A_TOKEN cli 1 "prove against a checkpoint with another root" \
	audit prove 1 --checkpoint "$VT_TMP/a-root.checkpoint" --public-key "$A_PK"
out_has '^FAIL' "edited root: FAIL"
VAULTTERM_TOKEN=$A_TOKEN cli 1 "prove with B's key" \
	audit prove 1 --checkpoint "$A_CP" --public-key "$B_PK"
out_has '^FAIL' "another org's key: FAIL"
VAULTTERM_TOKEN=$B_TOKEN cli 1 "B's server log against A's checkpoint" \
	audit prove 1 --checkpoint "$A_CP" --public-key "$A_PK"

# ---- proof endpoints ------------------------------------------------------------------------------
for i in 0 7 $((A_N - 1)); do
	api GET "/api/audit/proof/inclusion?index=$i" "" "$A_TOKEN"
	expect_status 200 "A: inclusion proof of $i"
	expect_jq ".index == $i and .size == $A_N and (.path | length) >= 1 and all(.path[]; test(\"^[0-9a-f]{64}\$\"))" \
		"A: inclusion proof $i shape"
	expect_eq "$(psql_super "SELECT encode(leaf_hash, 'hex') FROM audit_index
		WHERE org_id = '$A_ORG' AND idx = $i")" "$(jq -r .leaf_hash <<<"$BODY")" \
		"A: proof $i carries the stored leaf hash"
	expect_eq "$(jq -r .leaf_hash <<<"$BODY")" \
		"$({ printf '\0'; jq -r .entry <<<"$BODY" | base64 -d; } | hexsha256)" \
		"A: leaf hash of proof $i = SHA-256(0x00 ‖ entry)"
	expect_eq "${A_ORG//-/}" "$(jq -r .entry <<<"$BODY" | b64hex | cut -c65-96)" \
		"A: the entry of proof $i is a row of A"
done
api GET "/api/audit/proof/inclusion?index=2&size=5" "" "$A_TOKEN"
expect_status 200 "A: inclusion proof in an older tree"
expect_jq '.size == 5 and (.path | length) == 3' "A: proof of 2 in a tree of 5 has 3 hashes"
api GET "/api/audit/proof/consistency?from=5&to=$A_N" "" "$A_TOKEN"
expect_status 200 "A: consistency proof"
expect_jq ".from == 5 and .to == $A_N and (.path | length) >= 1" "A: consistency proof shape"
api GET "/api/audit/proof/consistency?from=$A_N&to=$A_N" "" "$A_TOKEN"
expect_status 200 "A: consistency of a size with itself"
expect_jq '.path == []' "A: m = n gives the empty proof"

# Org B sees its own log only.
api GET "/api/audit/proof/inclusion?index=0" "" "$B_TOKEN"
expect_status 200 "B: inclusion proof of its row 0"
expect_jq ".size == $B_N" "B: proofs are in B's tree"
expect_eq "${B_ORG//-/}" "$(jq -r .entry <<<"$BODY" | b64hex | cut -c65-96)" "B: entry 0 is B's row"
expect_eq "$(psql_super "SELECT encode(leaf_hash, 'hex') FROM audit_index WHERE org_id = '$B_ORG'
	AND idx = 0")" "$(jq -r .leaf_hash <<<"$BODY")" "B: proof 0 is B's leaf"
api GET "/api/audit/proof/inclusion?index=$B_N" "" "$B_TOKEN"
expect_status 400 "B: index = its size (A has that index)"
expect_code validation_failed "B: index beyond its size"
api GET "/api/audit/proof/inclusion?index=$((A_N - 1))" "" "$B_TOKEN"
expect_status 400 "B: A's last index"
api GET "/api/audit/proof/inclusion?index=0&size=$A_N" "" "$B_TOKEN"
expect_status 400 "B: size = A's size"
expect_code validation_failed "B: size beyond its log"
api GET "/api/audit/proof/consistency?from=1&to=$A_N" "" "$B_TOKEN"
expect_status 400 "B: consistency up to A's size"
api GET "/api/audit/checkpoints?limit=500" "" "$B_TOKEN"
expect_status 200 "B: checkpoints"
expect_jq "(.checkpoints | length) == $B_NCP and all(.checkpoints[]; .note | startswith(\"$B_ORIGIN\n\"))" \
	"B: lists only B's checkpoints"
api GET /api/audit/checkpoints/latest "" "$B_TOKEN"
expect_eq "$B_ORIGIN" "$(sed -n 1p <<<"$BODY")" "B: the latest note is B's"
expect_eq "$B_N" "$(sed -n 2p <<<"$BODY")" "B: the latest note has B's size"

# Malformed query values: 400 validation_failed.
for q in "inclusion" "inclusion?index=" "inclusion?index=abc" "inclusion?index=-1" \
	"inclusion?index=1.5" "inclusion?index=0x1" "inclusion?index=%201" "inclusion?index=1e3" \
	"inclusion?index=99999999999999999999999" "inclusion?index=9223372036854775807" \
	"inclusion?index=0&size=0" "inclusion?index=0&size=abc" "inclusion?index=0&size=-5" \
	"inclusion?index=0&size=$((A_N + 1))" "inclusion?index=5&size=5" \
	"consistency" "consistency?from=1" "consistency?to=2" "consistency?from=0&to=2" \
	"consistency?from=3&to=2" "consistency?from=abc&to=2" "consistency?from=1&to=x" \
	"consistency?from=1&to=$((A_N + 1))" "consistency?from=-1&to=2"; do
	api GET "/api/audit/proof/$q" "" "$A_TOKEN"
	expect_status 400 "GET /api/audit/proof/$q"
	expect_code validation_failed "GET /api/audit/proof/$q"
done
for q in "limit=0" "limit=501" "limit=abc" "limit=-1" "cursor=abc" "cursor=0" "cursor=-1" \
	"cursor=1.5" "cursor=99999999999999999999999"; do
	api GET "/api/audit/checkpoints?$q" "" "$A_TOKEN"
	expect_status 400 "GET /api/audit/checkpoints?$q"
	expect_code validation_failed "GET /api/audit/checkpoints?$q"
done
api GET "/api/audit/checkpoints?cursor=$A_N" "" "$A_TOKEN"
expect_status 200 "checkpoints after the last size"
expect_jq '.checkpoints == [] and .next_cursor == null' "nothing after the last checkpoint"

# Who may read the chain.
CHAIN_PATHS=(/api/audit/checkpoints /api/audit/checkpoints/latest "/api/audit/proof/inclusion?index=0"
	"/api/audit/proof/consistency?from=1&to=2" /api/audit/export /api/audit/public-key)
for p in "${CHAIN_PATHS[@]}"; do
	api GET "$p"
	expect_status 401 "$p without credentials"
	api GET "$p" "" "vt_not_a_real_token_at_all"
	expect_status 401 "$p with a bogus token"
	api GET "$p" "" "$CAROL"
	expect_status 403 "$p as a member (no audit permission)"
	api GET "$p" "" "$A_NOAUDIT"
	expect_status 403 "$p with a vault:read token"
	api GET "$p" "" "$A_CI"
	expect_status 200 "$p with an audit:read token"
	api GET "$p" "" "$A_ADMINTOK"
	expect_status 200 "$p with an admin-scoped token"
	api GET "$p" "" "$ERIN"
	expect_status 200 "$p as an org admin"
done
VAULTTERM_TOKEN=$CAROL cli 1 "member: audit export (403)" audit export -o "$VT_TMP/carol.bundle"
[ ! -e "$VT_TMP/carol.bundle" ] && pass || fail "a refused export must not leave a file"

# ---- a late commit is indexed after it commits, never skipped ------------------------------------
# A superuser transaction with an xid holds the snapshot xmin: rows committed after it started are
# final only once it ends. A new org's first row waits with it (no checkpoint, no state yet).
size_before=$(psql_super "SELECT size FROM audit_log_state WHERE org_id = '$A_ORG'")
PGPASSWORD=$SUPER_PW psql -X -q -h "$VT_DATA/run" -U postgres -d vaultterm -At \
	-c "SELECT pg_current_xact_id(), pg_sleep(300) /* vt-hold-xmin */" >/dev/null 2>&1 &
HOLD_PID=$!
held=0
for _ in $(seq 1 50); do
	held=$(psql_super "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%vt-hold-xmin%'
		AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")
	[ "$held" = 1 ] && break
	sleep 0.1
done
expect_eq 1 "$held" "a transaction holds the xmin"
api POST /api/tokens '{"name":"late","scopes":["audit:read"]}' "$A_TOKEN"
expect_status 201 "A: a row while the xmin is held"
late_id=$(psql_super "SELECT id FROM audit_log WHERE org_id = '$A_ORG' AND action = 'API_TOKEN_CREATED'
	ORDER BY seq DESC LIMIT 1")
reg dave@chain.example
D_TOKEN=$REG_TOKEN D_ORG=$REG_ORG
sleep 0.5
api GET "/api/audit?limit=1" "" "$A_TOKEN"
expect_jq ".items[0].id == \"$late_id\" and .items[0].index == null" \
	"a committed row waits (index null) while an older transaction runs"
api GET "/api/audit/proof/inclusion?index=$size_before" "" "$A_TOKEN"
expect_status 400 "no proof for a row not yet sequenced"
api GET /api/audit/checkpoints/latest "" "$D_TOKEN"
expect_status 404 "a new org: no checkpoint yet"
api GET /api/audit/checkpoints "" "$D_TOKEN"
expect_status 200 "a new org: checkpoints"
expect_jq '.checkpoints == [] and .next_cursor == null' "a new org: no checkpoints listed"
api GET "/api/audit/proof/inclusion?index=0" "" "$D_TOKEN"
expect_status 400 "a new org: no proof"
api GET "/api/audit?limit=5" "" "$D_TOKEN"
expect_jq '(.items | length) == 1 and .items[0].index == null' "a new org's first row: index null"
VAULTTERM_TOKEN=$D_TOKEN cli 0 "a new org: export of an empty log" audit export -o "$VT_TMP/d.bundle"
expect_eq "end 0 0" "$(tail -n1 "$VT_TMP/d.bundle")" "empty bundle end line"
api GET /api/audit/public-key "" "$D_TOKEN"
D_PK=$(jq -r .public_key <<<"$BODY")
cli 0 "verify an empty log" audit verify "$VT_TMP/d.bundle" --public-key "$D_PK"
expect_eq "OK 0 rows, 0 checkpoints" "$OUT" "empty log verify output"
# Held until here whatever the machine's speed (a fixed sleep raced slow CI runs); now end it.
psql_super "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%vt-hold-xmin%' AND pid <> pg_backend_pid()" >/dev/null
wait "$HOLD_PID" || true
HOLD_PID=""
wait_sealed "$A_ORG" "$D_ORG"
api GET "/api/audit?limit=1" "" "$A_TOKEN"
expect_jq ".items[0].id == \"$late_id\" and .items[0].index == $size_before" \
	"the late row got the next index once the older transaction ended"
api GET "/api/audit?limit=5" "" "$D_TOKEN"
expect_jq '.items[0].index == 0' "the new org's first row is index 0"

# An older checkpoint still proves rows after the log grew.
VAULTTERM_TOKEN=$A_TOKEN cli 0 "prove against an older checkpoint" \
	audit prove 4 --checkpoint "$A_CP" --public-key "$A_PK"
out_has "^OK index 4 is in the log of size $A_N " "older checkpoint: the tree of its size"
VAULTTERM_TOKEN=$A_TOKEN cli 0 "prove the late row against a fresh checkpoint" \
	audit checkpoint -o "$VT_TMP/a2.checkpoint"
VAULTTERM_TOKEN=$A_TOKEN cli 0 "prove the late row" \
	audit prove "$size_before" --checkpoint "$VT_TMP/a2.checkpoint" --public-key "$A_PK"
VAULTTERM_TOKEN=$A_TOKEN cli 0 "export after growth" audit export -o "$A_BUNDLE"
cli 0 "verify after growth, against the witness" audit verify "$A_BUNDLE" --public-key "$A_PK" \
	--witness "$WITNESS"
out_has "^OK $((size_before + 1)) rows, " "verify after growth"

# Nothing here was tampered with: no finding, no rollback.
sleep 0.7 # more than two AUDIT_VERIFY_INTERVAL_MS passes
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE action IN
	('AUDIT_TAMPER_DETECTED', 'AUDIT_ROLLBACK_DETECTED')")" "no tamper or rollback event"
api GET /health
expect_jq '.status == "ok" and .audit == "sequencing"' "/health after the run"

finish
