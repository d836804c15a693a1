#!/usr/bin/env bash
# A running SSH session picks up secrets stored while it runs (docs/broker.md "Live scanning"),
# with the real OpenSSH client against the broker and a real sshd as the target:
#  - with the refresh period at 1 s (SSH_BROKER_FP_REFRESH_MS=1000), a session starts, prints
#    "ready" and sleeps; a secret whose value the target holds in a file is stored through the
#    API while it sleeps; then the session cats the file twice: exactly one
#    CREDENTIAL_EXPOSURE_DETECTED for that session naming the secret, the session row counts one
#    exposure, and the decrypted recording holds the output with the value redacted, not the
#    value;
#  - the same when the output just before the store ends with a found value (its finding still
#    waits for a byte when the new set comes), in a PTY shell session, and after a rotation: the old value's session, then the new
#    value stored while a session sleeps is found in it (the old one no longer is);
#  - the negative: the server restarted with the period at a day, the same flow detects nothing
#    and the value is in the recording in clear (the test needs the refresh to pass), while a
#    session started after the store finds it (the value itself is detectable);
#  - an invalid period refuses to start the server; no value in the server log; the server exits
#    0 on SIGTERM (ASan: every set reference released, no leak).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"
. "$(dirname "$0")/broker_lib.sh"

sshd_start
vt_start LOG_LEVEL=debug SSH_BROKER_FP_REFRESH_MS=1000
broker_world

# recording ID → $VT_TMP/rec (the decrypted asciicast); cast_output FILE: its "o" events.
recording() {
	REC_CODE=$(curl -s -S -o "$VT_TMP/rec" -w '%{http_code}' \
		-H "Authorization: Bearer $A_JWT" "$VT_ADDR/api/terminal/sessions/$1/recording") || true
}
cast_output() { tail -n +2 "$1" | jq -rj 'select(.[1] == "o") | .[2]'; }

# live WHAT FILE STORE_CMD [SSH_OPTS]: a session (exec, or a shell with -tt) that prints "ready"
# (exec: runs $LIVE_HEAD, which must print it), sleeps 4 s and cats FILE twice; STORE_CMD runs
# once "ready" has arrived. → SESSION, SESSION_ID, LIVE_OUT (what the client got).
live() {
	local what=$1 file=$2 store=$3 pid rc=0
	shift 3
	if [ "${1:-}" = -tt ]; then
		printf '%s\n' "echo re''ady; sleep 4; cat $file; cat $file; exit" >"$VT_TMP/live.in"
		broker_ssh "$BOB_KEY" t-ed25519 -tt <"$VT_TMP/live.in" >"$VT_TMP/live.out" \
			2>"$VT_TMP/live.err" &
	else
		broker_ssh "$BOB_KEY" t-ed25519 -- "${LIVE_HEAD:-echo ready}; sleep 4; cat $file; cat $file" \
			</dev/null >"$VT_TMP/live.out" 2>"$VT_TMP/live.err" &
	fi
	pid=$!
	for _ in $(seq 1 600); do
		grep -q 'ready' "$VT_TMP/live.out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q 'ready' "$VT_TMP/live.out" && pass ||
		fail "$what: the session did not start: $(od -c "$VT_TMP/live.out" | head -n 20)"
	$store
	wait "$pid" || rc=$?
	expect_eq 0 "$rc" "$what: the session's exit status ($(head -c 300 "$VT_TMP/live.err"))"
	LIVE_OUT=$(cat "$VT_TMP/live.out")
	cat "$VT_TMP/live.out" "$VT_TMP/live.err" >>"$VT_RECEIVED"
	last_session "$B_JWT"
}

# exposures_of WHAT N SECRET: the session raised N CREDENTIAL_EXPOSURE_DETECTED (naming SECRET).
exposures_of() {
	expect_eq "$2" "$(jq .exposures <<<"$SESSION")" "$1: the session row's exposures"
	session_audit "$A_JWT" CREDENTIAL_EXPOSURE_DETECTED "$SESSION_ID"
	expect_eq "$2" "$(jq length <<<"$ROWS")" "$1: CREDENTIAL_EXPOSURE_DETECTED rows: $ROWS"
	if [ "$2" -gt 0 ]; then
		jq -e --arg s "$3" 'all(.[]; tostring | contains($s))' <<<"$ROWS" >/dev/null && pass ||
			fail "$1: the exposure names the secret $3: $ROWS"
	fi
}

# redacted_recording WHAT VALUE: the recording holds the output, the value redacted only.
redacted_recording() {
	recording "$SESSION_ID"
	expect_eq 200 "$REC_CODE" "$1: GET recording"
	grep -qF -- "$2" "$VT_TMP/rec" && fail "$1: the recording holds the value" || pass
	cast_output "$VT_TMP/rec" >"$VT_TMP/rec.txt"
	[ "$(grep -c 'x \[REDACTED:[a-z-]*\] y' "$VT_TMP/rec.txt")" -ge 2 ] && pass ||
		fail "$1: the recording lacks the two redacted cats: $(head -c 600 "$VT_TMP/rec.txt")"
	grep -q 'ready' "$VT_TMP/rec.txt" && pass || fail "$1: the recording lacks the output"
}

V1="vtlive-$(openssl rand -hex 16)"
V2="vtrot-$(openssl rand -hex 16)"
V3="vtshell-$(openssl rand -hex 16)"
V4="vtnoref-$(openssl rand -hex 16)"
V5="vtafter-$(openssl rand -hex 16)"
sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- "printf 'x %s y\\n' $V1 >v1.txt; printf 'x %s y\\n' $V2 >v2.txt; printf 'x %s y\\n' $V3 >v3.txt; printf 'x %s y\\n' $V4 >v4.txt; printf 'x %s y\\n' $V5 >v5.txt" \
	</dev/null

# ---- exec: a secret stored while the session sleeps ----------------------------------------------
store_v1() {
	mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$V1" '{type:"API_KEY", name:"live", fields:{key:$k}}')"
	S1=$SECRET_ID
}
live "exec, stored while it runs" v1.txt store_v1
grep -c "x $V1 y" <<<"$LIVE_OUT" | grep -qx 2 && pass || fail "exec: the client's output: $LIVE_OUT"
exposures_of "exec, stored while it runs" 1 "$S1"
redacted_recording "exec, stored while it runs" "$V1"

# ---- a rotation while a session runs: the new value is found, the old one no longer -------------
rotate_v1() {
	api PUT "/api/vault/secrets/$S1" "$(jq -nc --arg k "$V2" '{fields:{key:$k}}')" "$A_JWT"
	expect_status 200 "rotate the secret"
}
live "exec, rotated while it runs (new value)" v2.txt rotate_v1
exposures_of "exec, rotated while it runs (new value)" 1 "$S1"
redacted_recording "exec, rotated while it runs (new value)" "$V2"
live "exec, after the rotation (old value)" v1.txt true
exposures_of "exec, after the rotation (old value)" 0 "$S1"

# ---- the last output before the store ends with a stored value (its finding waits for a byte) ----
store_v5() {
	mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$V5" '{type:"API_KEY", name:"after", fields:{key:$k}}')"
	S5=$SECRET_ID
}
LIVE_HEAD="printf 'ready %s\\n' $V2"
live "exec, a found value just before the store" v5.txt store_v5
unset LIVE_HEAD
expect_eq 2 "$(jq .exposures <<<"$SESSION")" "exec, a found value just before the store: exposures"
session_audit "$A_JWT" CREDENTIAL_EXPOSURE_DETECTED "$SESSION_ID"
jq -e --arg a "$S1" --arg b "$S5" 'length == 2 and any(.[]; tostring | contains($a)) and
	any(.[]; tostring | contains($b))' <<<"$ROWS" >/dev/null && pass ||
	fail "exec, a found value just before the store: one exposure each for $S1 and $S5: $ROWS"
recording "$SESSION_ID"
grep -qF -- "$V5" "$VT_TMP/rec" && fail "exec, a found value just before the store: V5 recorded" || pass
grep -qF -- "$V2" "$VT_TMP/rec" && fail "exec, a found value just before the store: V2 recorded" || pass

# ---- a PTY shell -----------------------------------------------------------------------------------
store_v3() {
	mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$V3" '{type:"PASSWORD", name:"shell", fields:{password:$p}}')"
	S3=$SECRET_ID
}
live "shell, stored while it runs" v3.txt store_v3 -tt
BODY=$SESSION
expect_jq '.kind == "shell"' "the shell session"
exposures_of "shell, stored while it runs" 1 "$S3"
redacted_recording "shell, stored while it runs" "$V3"

# ---- the negative: no refresh within the session ---------------------------------------------------
for v in "$V1" "$V2" "$V3" "$V5"; do
	if grep -qF -- "$v" "$VT_LOG"; then fail "a value is in the server log"; else pass; fi
done
VT_EXIT=0
vt_stop
expect_eq 0 "$VT_EXIT" "the server's exit status after SIGTERM (nonzero: a sanitizer report)"
vt_start LOG_LEVEL=debug SSH_BROKER_FP_REFRESH_MS=86400000
store_v4() {
	mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$V4" '{type:"API_KEY", name:"noref", fields:{key:$k}}')"
	S4=$SECRET_ID
}
live "without refresh, stored while it runs" v4.txt store_v4
exposures_of "without refresh, stored while it runs" 0 "$S4"
recording "$SESSION_ID"
expect_eq 200 "$REC_CODE" "without refresh: GET recording"
grep -qF -- "$V4" "$VT_TMP/rec" && pass ||
	fail "without refresh: the value should be in the recording (else the checks above prove nothing)"
bssh "$BOB_KEY" t-ed25519 -- "cat v4.txt"
expect_eq 0 "$RC" "without refresh, a session started after the store (stderr: $ERR)"
last_session "$B_JWT"
exposures_of "without refresh, a session started after the store" 1 "$S4"

# ---- an invalid period; logs; shutdown -------------------------------------------------------------
VT_EXIT=0
vt_stop
expect_eq 0 "$VT_EXIT" "the server's exit status after SIGTERM (nonzero: a sanitizer report)"
for v in "$V1" "$V2" "$V3" "$V4"; do # this server's log
	if grep -qF -- "$v" "$VT_LOG"; then fail "a value is in the server log"; else pass; fi
done
if vt_start SSH_BROKER_FP_REFRESH_MS=5 2>/dev/null; then
	fail "the server started with SSH_BROKER_FP_REFRESH_MS=5"
	vt_stop
else
	grep -q 'SSH_BROKER_FP_REFRESH_MS' "$VT_LOG" && pass ||
		fail "no word of SSH_BROKER_FP_REFRESH_MS: $(tail -n 5 "$VT_LOG")"
fi

finish
