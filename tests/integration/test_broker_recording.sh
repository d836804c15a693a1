#!/usr/bin/env bash
# Live exposure scanning, recordings and what the broker leaves at rest (issue 6, "Show it"), with
# the real OpenSSH client against the broker and a real sshd as the target (sshd_lib.sh):
#  - a remote `cat` of a file holding a stored secret's value (twice in one session) raises
#    exactly one CREDENTIAL_EXPOSURE_DETECTED for the session, naming the secret, holding no value;
#  - the recording (GET /api/terminal/sessions/{id}/recording, asciicast v2, audited
#    RECORDING_VIEWED; `vaultterm recording cat`) is the session's output exactly, with the value
#    replaced by [REDACTED:...] and everything else intact — also in a PTY shell session, and when
#    the value comes after more than a chunk (256 KiB) of output;
#  - with recording off for the org the session is not recorded and the exposure is still
#    detected; an empty session is not stored;
#  - no plaintext at rest: after CHECKPOINT the cluster's files (heap and WAL), postgres.log (every
#    statement logged with its parameters) and the server's debug log hold neither the recorded
#    canary output, nor the exposed value, nor the injected password / passphrase / private keys,
#    nor any OpenSSH private key (the broker's host key included) in text, binary or base64 form —
#    while metadata stored in clear by design (a command, a login key) is found by the same search.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"
. "$(dirname "$0")/broker_lib.sh"

PG="$VT_DATA/pg"
sshd_start
vt_start LOG_LEVEL=debug
psql_super "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
psql_super "ALTER SYSTEM SET log_parameter_max_length = -1" >/dev/null
psql_super "SELECT pg_reload_conf()" >/dev/null
expect_eq off "$(psql_super "SHOW wal_compression")" "wal_compression (compressed WAL would hide bytes)"
broker_world

REC="vtrec-$(openssl rand -hex 10)"   # output that is recorded (encrypted) and never in clear
EXPV="vtexp-$(openssl rand -hex 16)"  # a stored secret's value that the target prints
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$EXPV" '{type:"API_KEY", name:"leaky", fields:{key:$k}}')"
S_EXP=$SECRET_ID
sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- "printf 'before-%s\\n%s\\nafter-%s\\n' $REC $EXPV $REC >leak.txt" \
	</dev/null

# recording ID: GET .../recording → $VT_TMP/rec (the asciicast), REC_TYPE (its media type).
recording() {
	REC_TYPE=$(curl -s -S -o "$VT_TMP/rec" -w '%{http_code} %{content_type}' \
		-H "Authorization: Bearer ${2:-$A_JWT}" "$VT_ADDR/api/terminal/sessions/$1/recording") || true
}
# cast_output FILE: the concatenated "o" events of an asciicast.
cast_output() { tail -n +2 "$1" | jq -rj 'select(.[1] == "o") | .[2]'; }
# redacted TEXT: every [REDACTED:<rule>] as one marker.
redacted() { sed -E 's/\[REDACTED:[A-Za-z0-9_.:-]+\]/<R>/g'; }

# check_recording WHAT EXPECTED_OUTPUT_FILE: the session's recording is the output with the
# value redacted, and nothing else changed.
check_recording() {
	local what=$1
	recording "$SESSION_ID"
	expect_eq "200 application/x-asciicast" "${REC_TYPE%%;*}" "$what: GET recording"
	head -n1 "$VT_TMP/rec" | jq -e '.version == 2 and (.width | type) == "number" and
		(.height | type) == "number" and (.timestamp | type) == "number"' >/dev/null && pass ||
		fail "$what: not an asciicast v2 header: $(head -c 300 "$VT_TMP/rec")"
	tail -n +2 "$VT_TMP/rec" | jq -se 'all(type == "array" and length == 3 and
		(.[0] | type) == "number" and (.[1] == "o" or .[1] == "r")) and
		([.[][0]] | . == sort)' >/dev/null && pass ||
		fail "$what: events are not [time, \"o\"|\"r\", data] in time order"
	grep -qF "$EXPV" "$VT_TMP/rec" && fail "$what: the recording holds the exposed value" || pass
	cast_output "$VT_TMP/rec" | redacted >"$VT_TMP/rec.txt"
	sed "s/$EXPV/<R>/g" "$2" >"$VT_TMP/want.txt"
	if cmp -s "$VT_TMP/want.txt" "$VT_TMP/rec.txt"; then pass; else
		fail "$what: the recorded output differs from the session's (value redacted):
$(diff <(head -c 2000 "$VT_TMP/want.txt") <(head -c 2000 "$VT_TMP/rec.txt") | head -n 20)"
	fi
}

# ---- exec: one exposure for two cats, recording redacted --------------------------------------
bssh "$BOB_KEY" t-ed25519 -- 'cat leak.txt; cat leak.txt'
expect_eq 0 "$RC" "exec cat (stderr: $ERR)"
printf '%s\n' "$OUT" >"$VT_TMP/exec.out"
grep -c "before-$REC" "$VT_TMP/exec.out" | grep -qx 2 && pass || fail "exec: output: $OUT"
last_session "$B_JWT"
EXEC_SESSION=$SESSION_ID
BODY=$SESSION
expect_jq '.exposures == 1 and .recorded == true' "the session: one exposure, recorded"
session_audit "$A_JWT" CREDENTIAL_EXPOSURE_DETECTED "$SESSION_ID"
expect_eq 1 "$(jq length <<<"$ROWS")" "exactly one CREDENTIAL_EXPOSURE_DETECTED for two cats: $ROWS"
jq -e --arg s "$S_EXP" '.[0] | tostring | contains($s)' <<<"$ROWS" >/dev/null && pass ||
	fail "the exposure names the secret $S_EXP: $ROWS"
BODY=$ROWS
absent "the exposure's audit row" "$EXPV" "$REC"
check_recording "exec" "$VT_TMP/exec.out"
session_audit "$A_JWT" RECORDING_VIEWED "$SESSION_ID"
[ "$(jq length <<<"$ROWS")" -ge 1 ] && pass || fail "GET recording is not audited RECORDING_VIEWED"
# The CLI prints it (cat) and replays it with its timing (play), the same text.
for how in cat "play --speed 50"; do
	# shellcheck disable=SC2086
	VAULTTERM_TOKEN=$B_JWT vt recording $how "$SESSION_ID" >"$VT_TMP/cli.out" 2>"$VT_TMP/cli.err" &&
		rc=0 || rc=$?
	expect_eq 0 "$rc" "vaultterm recording $how: $(head -c 300 "$VT_TMP/cli.err")"
	grep -qF "$EXPV" "$VT_TMP/cli.out" && fail "vaultterm recording $how prints the value" || pass
	redacted <"$VT_TMP/cli.out" >"$VT_TMP/cli.txt"
	cmp -s "$VT_TMP/want.txt" "$VT_TMP/cli.txt" && pass ||
		fail "vaultterm recording $how: not the output, redacted: $(head -c 400 "$VT_TMP/cli.out")"
done

# ---- the value after more than a chunk of output ----------------------------------------------
bssh "$BOB_KEY" t-ed25519 -- 'head -c 300000 /dev/zero | tr "\0" x; echo; cat leak.txt'
expect_eq 0 "$RC" "exec after 300 kB (stderr: $ERR)"
printf '%s\n' "$OUT" >"$VT_TMP/big.out"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.exposures == 1 and .recorded == true' "after 300 kB: one exposure, recorded"
check_recording "after 300 kB" "$VT_TMP/big.out"

# ---- a PTY shell -------------------------------------------------------------------------------
BSSH_IN="$VT_TMP/shell.in"
printf '%s\n' 'cat leak.txt' 'exit' >"$BSSH_IN"
bssh "$BOB_KEY" t-ed25519 -tt
unset BSSH_IN
expect_eq 0 "$RC" "shell (stderr: $ERR)"
printf '%s' "$OUT" >"$VT_TMP/shell.out"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.kind == "shell" and .exposures == 1 and .recorded == true' "shell: one exposure"
recording "$SESSION_ID"
expect_eq "200 application/x-asciicast" "${REC_TYPE%%;*}" "shell: GET recording"
grep -qF "$EXPV" "$VT_TMP/rec" && fail "shell: the recording holds the exposed value" || pass
cast_output "$VT_TMP/rec" >"$VT_TMP/rec.txt"
[ "$(grep -c "before-$REC" "$VT_TMP/rec.txt")" -ge 1 ] && grep -q 'REDACTED' "$VT_TMP/rec.txt" &&
	pass || fail "shell: the recording lacks the output or the redaction"

# ---- recording off; an empty session --------------------------------------------------------------
bssh "$BOB_KEY" t-ed25519 -- 'true'
expect_eq 0 "$RC" "an empty exec"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.recorded == false and .bytes_out == 0' "an empty session is not recorded"
recording "$SESSION_ID"
expect_eq 404 "${REC_TYPE%% *}" "no recording of an empty session"
api PATCH /api/orgs/current '{"recording_enabled":false}' "$A_JWT"
expect_status 200 "recording off"
bssh "$BOB_KEY" t-ed25519 -- 'cat leak.txt'
expect_eq 0 "$RC" "exec with recording off"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.recorded == false and .exposures == 1' "recording off: not recorded, still scanned"
session_audit "$A_JWT" CREDENTIAL_EXPOSURE_DETECTED "$SESSION_ID"
expect_eq 1 "$(jq length <<<"$ROWS")" "recording off: the exposure is audited"
recording "$SESSION_ID"
expect_eq 404 "${REC_TYPE%% *}" "recording off: no recording"
api PATCH /api/orgs/current '{"recording_enabled":true}' "$A_JWT"
expect_status 200 "recording on again"

# ---- no plaintext at rest ---------------------------------------------------------------------------
CMD_MARK="vtcmd-$(openssl rand -hex 10)" # an exec command: stored in clear by design
REC_REV=$(rev <<<"$REC")                 # the command holds the canary reversed, never itself
bssh "$BOB_KEY" t-pass -- "echo $CMD_MARK; echo $REC_REV | rev"
expect_eq "0 $CMD_MARK
$REC" "$RC $OUT" "a passphrase-key session printing the canary"
bssh "$BOB_KEY" t-pw -- "echo $REC_REV | rev"
expect_eq "0 $REC" "$RC $OUT" "a password session printing the canary"
expect_eq 1 "$(psql_super "SELECT count(*) FROM broker_host_keys")" "the broker's host key is stored"
# (spelled in hex: postgres.log, searched below, logs this statement too)
expect_eq 0 "$(psql_super "SELECT position('\\x$(printf openssh-key-v1 | od -An -tx1 | tr -d ' \n')'::bytea
	IN sealed) + position('\\x$(printf b3BlbnNzaC1rZXktdjE | od -An -tx1 | tr -d ' \n')'::bytea IN sealed)
	FROM broker_host_keys")" \
	"the stored host key is sealed, not an OpenSSH key"

# encodings STRING: the string, its hex (both cases) and base64 at the three byte alignments,
# trimmed of the characters that depend on the bytes around it (as test_no_plaintext.sh).
encodings() {
	local s=$1 a b64 drop
	printf '%s\n' "$s"
	[ "${#s}" -ge 16 ] || return 0
	printf '%s' "$s" | od -An -tx1 -v | tr -d ' \n'
	echo
	printf '%s' "$s" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F
	echo
	for a in 0 1 2; do
		b64=$({
			head -c "$a" /dev/zero
			printf '%s' "$s"
		} | base64 -w0)
		drop=$((a == 0 ? 0 : a + 1))
		printf '%s\n' "${b64:drop:$((${#b64} - drop - 4))}"
	done
}
credential_needles "$VT_TMP/needles.cred"
{
	while IFS= read -r s; do encodings "$s"; done < <(printf '%s\n' "$REC" "$EXPV" "$SSHD_PASSWORD" \
		"$SSHD_KEY_PASSPHRASE")
	cat "$VT_TMP/needles.cred"
	# any OpenSSH private key: armored, binary, or its base64 body (b64("openssh-key-v1\0"))
	printf '%s\n' 'BEGIN OPENSSH PRIVATE KEY' 'openssh-key-v1' 'b3BlbnNzaC1rZXktdjE'
} | grep -v '^$' | sort -u >"$VT_TMP/patterns"
# hits PATH...: lines of raw bytes holding a pattern.
hits() { { grep -a -F -r -D skip -s -c -f "$VT_TMP/patterns" "$@" || true; } |
	awk -F: '{s += $NF} END {print s + 0}'; }
# the search is proven on the target's own private keys and on a b64 of the canary
expect_eq 4 "$(grep -l -a -F -f "$VT_TMP/patterns" "$SSHD_KEYS"/{ed25519,rsa,ecdsa,ed25519_pass} |
	wc -l)" "the patterns find the target's private keys"
printf 'xx%s' "$REC" | base64 -w0 >"$VT_TMP/probe.b64"
expect_eq 1 "$(hits "$VT_TMP/probe.b64")" "the patterns find the canary in base64"

psql_super "CHECKPOINT" >/dev/null
for where in "$PG/base" "$PG/pg_wal" "$PG" "$VT_DATA/postgres.log" "$VT_LOG"; do
	n=$(hits "$where")
	if [ "$n" -eq 0 ]; then pass; else
		fail "$where: $n lines hold a canary, credential or private key:"
		{ grep -a -F -r -D skip -s -o -f "$VT_TMP/patterns" "$where" || true; } | cut -c1-200 |
			sort | uniq -c | head -n 20 >&2
	fi
done
# positive controls: metadata in clear by design is found by the same search
printf '%s\n' "$CMD_MARK" >"$VT_TMP/one"
for where in "$PG/base" "$PG/pg_wal" "$VT_DATA/postgres.log"; do
	[ "$({ grep -a -F -r -D skip -s -c -f "$VT_TMP/one" "$where" || true; } |
		awk -F: '{s += $NF} END {print s + 0}')" -gt 0 ] && pass ||
		fail "positive control: the stored command $CMD_MARK is not found in $where"
done
cut -d' ' -f2 "$BOB_KEY.pub" >"$VT_TMP/one"
[ "$({ grep -a -F -r -D skip -s -c -f "$VT_TMP/one" "$PG/base" || true; } |
	awk -F: '{s += $NF} END {print s + 0}')" -gt 0 ] && pass ||
	fail "positive control: bob's login key (public) is not found in base/"
# and the recordings are there, sealed
expect_eq 1 "$(psql_super "SELECT count(*) > 0 AND bool_and(substring(envelope FROM 1 FOR 5) =
	'\\x5654454e01'::bytea) FROM recording_chunks WHERE session_id = '$EXEC_SESSION'" |
	sed 's/t/1/;s/f/0/')" "the exec session's recording chunks are envelopes"

server_stops_clean
finish
