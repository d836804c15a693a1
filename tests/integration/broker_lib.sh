# shellcheck shell=bash disable=SC2034 # the helpers set output variables for the sourcing test
# The world of the test_broker_*.sh tests, made through the real API only; sourced after lib.sh,
# vault_lib.sh and sshd_lib.sh, called after vt_start and sshd_start:
#
#   broker_world      org A: alice (owner) with a vault "targets" holding the target's
#                     credentials as secrets — S[pw] (PASSWORD), S[ed25519], S[rsa], S[ecdsa],
#                     S[pass] (SSH_KEY, the last passphrase-protected) — a connection profile per
#                     credential, P[pw] ... (ids in PID[...]: names "t-pw", "t-ed25519", ...;
#                     host key pinned from the target's files), and bob, a plain org member with
#                     VIEWER on the vault and a registered login key $BOB_KEY (alice's: $ALICE_KEY)
#   mkprofile JWT NAME SECRET USER [HOST_KEY] [PORT] → PROFILE_ID
#   mkloginkey JWT NAME [TYPE]                  → LOGIN_KEY (path), LOGIN_KEY_ID
#   bssh KEY PROFILE [OPTS...] [-- CMD...]   broker_ssh, stdin from $BSSH_IN (or /dev/null):
#                                            OUT, ERR, RC; both streams kept in $VT_RECEIVED
#   bssh_ticket TICKET PROFILE [...]         the same with a ticket
#   ticket JWT PROFILE_ID                    → TICKET (expects 201)
#   last_session JWT                         → SESSION (the newest session's JSON once it has
#                                            ended), SESSION_ID
#   session_audit JWT ACTION SESSION_ID      → ROWS: that action's audit rows naming the session
#   target_accepts                           → the number of logins the target has accepted
#   credential_needles FILE                  every value of the target's credentials, one a line
#   server_stops_clean                       stops the server: exit 0, no sanitizer report (a
#                                            leak or an error in any session it served)

VT_RECEIVED="$VT_TMP/client-received" # everything any broker client got, stdout and stderr
: >"$VT_RECEIVED"
declare -A S=() P=() PID=()

mkprofile() {
	local body
	body=$(jq -nc --arg n "$2" --arg s "$3" --arg u "$4" --arg k "${5:-}" \
		--argjson p "${6:-$SSHD_PORT}" \
		'{name:$n, host:"127.0.0.1", port:$p, username:$u, credential_secret_id:$s}
		 + (if $k == "" then {} else {host_key:$k} end)')
	api POST /api/ssh/profiles "$body" "$1"
	expect_status 201 "create profile $2"
	PROFILE_ID=$(jq -r .id <<<"$BODY")
}

mkloginkey() {
	LOGIN_KEY=$(client_key "$2" "${3:-ed25519}")
	api POST /api/ssh/keys "$(jq -nc --arg n "$2" --arg k "$(cat "$LOGIN_KEY.pub")" \
		'{name:$n, public_key:$k}')" "$1"
	expect_status 201 "register login key $2"
	LOGIN_KEY_ID=$(jq -r .id <<<"$BODY")
}

ticket() {
	api POST /api/ssh/tickets "$(jq -nc --arg p "$2" '{profile_id:$p}')" "$1"
	expect_status 201 "ticket for $2"
	TICKET=$(jq -r .ticket <<<"$BODY")
}

_bssh_capture() {
	local f="$VT_TMP/bssh.$BASHPID"
	RC=0
	"$@" <"${BSSH_IN:-/dev/null}" >"$f.out" 2>"$f.err" || RC=$?
	OUT=$(cat "$f.out")
	ERR=$(cat "$f.err")
	cat "$f.out" "$f.err" >>"$VT_RECEIVED"
	rm -f "$f.out" "$f.err"
}
bssh() { _bssh_capture broker_ssh "$@"; }
bssh_ticket() { _bssh_capture broker_ssh_ticket "$@"; }

# last_session JWT: the newest terminal session visible to JWT, waited for until it has ended
# (the broker ends it a moment after the client exits).
last_session() {
	for _ in $(seq 1 100); do
		api GET "/api/terminal/sessions?limit=1" "" "$1"
		SESSION=$(jq -c '(.sessions // .items)[0] // empty' <<<"$BODY" 2>/dev/null) || SESSION=""
		if [ -n "$SESSION" ] && jq -e '.ended_at != null' <<<"$SESSION" >/dev/null; then
			SESSION_ID=$(jq -r .id <<<"$SESSION")
			return 0
		fi
		sleep 0.1
	done
	fail "no ended terminal session in 10 s: HTTP $STATUS: ${BODY:0:400}"
	SESSION_ID=""
}

session_audit() {
	audit_all "$1" "action=$2"
	ROWS=$(jq -c --arg s "$3" '[.[] | select(tostring | contains($s))]' <<<"$AUDIT")
}

target_accepts() { grep -c '^Accepted ' "$(sshd_log)" || true; }

credential_needles() {
	local k r="$VT_TMP/refkeys"
	{
		printf '%s\n' "$SSHD_PASSWORD" "$SSHD_KEY_PASSPHRASE"
		for k in ed25519 rsa ecdsa ed25519_pass; do
			sshd_key_b64 "$k"
			echo
			sed '1d;$d' "$SSHD_KEYS/$k"
		done
	} | grep -v '^$' | sort -u >"$1"
	# A body line that any key of its kind has (the first line of an unencrypted key is all
	# header) does not identify the key: fresh keys of each kind tell which lines those are.
	if [ ! -d "$r" ]; then
		mkdir "$r"
		ssh-keygen -q -t ed25519 -N '' -f "$r/ed25519"
		ssh-keygen -q -t rsa -b 3072 -N '' -f "$r/rsa"
		ssh-keygen -q -t ecdsa -b 256 -N '' -f "$r/ecdsa"
		ssh-keygen -q -t ed25519 -N "x$SSHD_KEY_PASSPHRASE" -f "$r/ed25519_pass"
	fi
	for k in ed25519 rsa ecdsa ed25519_pass; do
		sed '1d;$d' "$r/$k"
		sed '1d;$d' "$SSHD_KEYS/$k"
	done | sort | uniq -d >"$1.shared"
	grep -vxF -f "$1.shared" "$1" >"$1.tmp" || true
	mv "$1.tmp" "$1"
	rm -f "$1.shared"
}

# ssh_key_fields KEY: the SSH_KEY secret fields for a target key (with its passphrase if any).
ssh_key_fields() {
	local pass=""
	[ "$1" = ed25519_pass ] && pass=$SSHD_KEY_PASSPHRASE
	jq -nc --arg k "$(cat "$SSHD_KEYS/$1")" --arg p "$pass" --arg pub "$(cat "$SSHD_KEYS/$1.pub")" \
		'{private_key:$k, public_key:$pub} + (if $p == "" then {} else {passphrase:$p} end)'
}

broker_world() {
	local k
	[ -n "${VT_SSH_PORT:-}" ] || { fail "the server logged no ssh broker port"; return 1; }
	reg "alice-$(openssl rand -hex 3)@broker.example"
	A_JWT=$REG_TOKEN A_USER=$REG_USER A_ORG=$REG_ORG
	mkvault "$A_JWT" targets
	VAULT=$VAULT_ID
	mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$SSHD_PASSWORD" --arg u "$SSHD_PW_USER" \
		'{type:"PASSWORD", name:"target-password", fields:{password:$p, username:$u}}')"
	S[pw]=$SECRET_ID
	for k in ed25519 rsa ecdsa pass; do
		local f=$k
		[ "$k" = pass ] && f=ed25519_pass
		mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg n "target-$k" --argjson f "$(ssh_key_fields "$f")" \
			'{type:"SSH_KEY", name:$n, fields:$f}')"
		S[$k]=$SECRET_ID
	done
	mkprofile "$A_JWT" t-pw "${S[pw]}" "$SSHD_PW_USER" "$(sshd_host_key_line)"
	P[pw]=t-pw PID[pw]=$PROFILE_ID
	for k in ed25519 rsa ecdsa pass; do
		mkprofile "$A_JWT" "t-$k" "${S[$k]}" "$SSHD_KEY_USER" "$(sshd_host_key_line)"
		P[$k]="t-$k" PID[$k]=$PROFILE_ID
	done
	join "$A_JWT" "bob-$(openssl rand -hex 3)@broker.example" member
	B_JWT=$JOIN_TOKEN B_USER=$JOIN_USER
	grant "$A_JWT" "$VAULT" "$B_USER" VIEWER
	mkloginkey "$B_JWT" bob
	BOB_KEY=$LOGIN_KEY BOB_KEY_ID=$LOGIN_KEY_ID
	mkloginkey "$A_JWT" alice
	ALICE_KEY=$LOGIN_KEY ALICE_KEY_ID=$LOGIN_KEY_ID
}

server_stops_clean() {
	VT_EXIT=0
	vt_stop
	expect_eq 0 "$VT_EXIT" "the server's exit status after SIGTERM (134: a sanitizer report)"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$VT_LOG"; then
		fail "sanitizer report in the server log: $(grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			"$VT_LOG" | grep -E 'Sanitizer|runtime error|#[0-9]+ .* in [a-z_]+ /' | head -n 12)"
	else
		pass
	fi
}
