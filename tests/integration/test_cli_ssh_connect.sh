#!/usr/bin/env bash
# `vaultterm ssh PROFILE -- CMD` for real: the CLI gets a ticket, pins the broker's host key in its
# own known_hosts file and execs the system's OpenSSH ssh, which takes the ticket from vaultterm
# as its SSH_ASKPASS program; the broker logs in to a real sshd (sshd_lib.sh) with the profile's
# vault credential. Checked: the command's output and exit status come back (password and key
# credentials), ssh options pass through, each run's ticket was consumed, nothing the client
# received holds a ticket or a credential, and an SSH server presenting another host key than the
# broker's (as the API names it) is refused by ssh before any login. The people, secrets and
# profiles are made through the API here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_start
vt_start
[ -n "${VT_SSH_PORT:-}" ] || { echo "the server started no SSH broker" >&2; exit 1; }

# The world: alice (owner) keeps the target's credentials in a vault and makes a profile per
# credential, pinned to the target's host key; bob, a member with VIEWER on it, connects.
reg "cli-alice-$(openssl rand -hex 3)@ssh.example"
A_JWT=$REG_TOKEN
mkvault "$A_JWT" targets
VAULT=$VAULT_ID
join "$A_JWT" "cli-bob-$(openssl rand -hex 3)@ssh.example" member
B_JWT=$JOIN_TOKEN
grant "$A_JWT" "$VAULT" "$JOIN_USER" VIEWER
# profile NAME SECRET_BODY USER: the secret, then its profile.
profile() {
	mksecret "$A_JWT" "$VAULT" "$2"
	api POST /api/ssh/profiles "$(jq -nc --arg n "$1" --arg s "$SECRET_ID" --arg u "$3" \
		--argjson p "$SSHD_PORT" --arg k "$(sshd_host_key_line)" \
		'{name:$n, host:"127.0.0.1", port:$p, username:$u, credential_secret_id:$s, host_key:$k}')" \
		"$A_JWT"
	expect_status 201 "profile $1"
}
profile t-pw "$(jq -nc --arg p "$SSHD_PASSWORD" '{type:"PASSWORD", name:"pw", fields:{password:$p}}')" \
	"$SSHD_PW_USER"
for k in ed25519 rsa ecdsa; do
	profile "t-$k" "$(jq -nc --arg n "$k" --rawfile f "$SSHD_KEYS/$k" \
		'{type:"SSH_KEY", name:$n, fields:{private_key:$f}}')" "$SSHD_KEY_USER"
done

export VAULTTERM_TOKEN=$B_JWT
RECEIVED=$VT_TMP/cli-received

# vtssh RC_WANT WHAT ARGS...: vaultterm ssh ARGS (stdin /dev/null); OUT, ERR, RC.
vtssh() {
	local want=$1 what=$2
	shift 2
	RC=0
	vt ssh "$@" </dev/null >"$VT_TMP/o" 2>"$VT_TMP/e" || RC=$?
	OUT=$(cat "$VT_TMP/o")
	ERR=$(cat "$VT_TMP/e")
	cat "$VT_TMP/o" "$VT_TMP/e" >>"$RECEIVED"
	expect_eq "$want" "$RC" "$what: exit status (stderr: $ERR)"
}

vtssh 0 "a command through a key credential" t-ed25519 -- echo cli-key-ok
expect_eq cli-key-ok "$OUT" "its output"
vtssh 0 "a command through a password credential" t-pw -- echo cli-pw-ok
expect_eq cli-pw-ok "$OUT" "its output"
vtssh 3 "the remote exit status" t-rsa -- 'exit 3'
vtssh 0 "ssh options after --" t-ecdsa -- -T -o LogLevel=ERROR 'echo opts-ok'
expect_eq opts-ok "$OUT" "-T and -o pass through"

KH=$VAULTTERM_CONFIG_DIR/broker_known_hosts
api GET /api/ssh/broker "" "$B_JWT"
expect_eq "[$(jq -r .host <<<"$BODY")]:$VT_SSH_PORT $(jq -r .host_key <<<"$BODY")" "$(cat "$KH")" \
	"known_hosts holds the broker's key"
expect_eq 0 "$(psql_super "SELECT count(*) FROM ssh_tickets WHERE used_at IS NULL")" \
	"every ticket the CLI got was used"
expect_eq 4 "$(psql_super "SELECT count(*) FROM ssh_tickets WHERE used_at IS NOT NULL")" \
	"one ticket per connection"
# The credentials and the tickets never reach the client.
{
	printf '%s\n' "$SSHD_PASSWORD"
	for k in ed25519 rsa ecdsa; do
		sshd_key_b64 "$k"
		echo
		sed '1d;$d' "$SSHD_KEYS/$k" | tail -n 2
	done
} | grep -v '^$' >"$VT_TMP/needles"
if grep -qaF -f "$VT_TMP/needles" "$RECEIVED"; then fail "a credential reached the client"; else pass; fi
if grep -qaE 'vtt_[A-Za-z0-9_-]{43}' "$RECEIVED"; then fail "a ticket was shown to the user"; else pass; fi

# A broker whose host key is not the one the API names: ssh refuses it before logging in (the
# known_hosts file is rewritten from the API on each run, so the API is made to lie here by
# pointing the CLI at a port where another SSH server listens: the target sshd itself).
mkdir -p "$VT_TMP/fakebin"
cat >"$VT_TMP/fakebin/ssh" <<EOF
#!/bin/sh
# Like the real ssh, but aimed at the target's sshd instead of the broker (same host, its port).
# HostKeyAlias: its key is looked up under the broker's name, as if the broker presented it.
for a in "\$@"; do shift; [ "\$a" = "$VT_SSH_PORT" ] && a=$SSHD_PORT; set -- "\$@" "\$a"; done
exec $(command -v ssh) -o 'HostKeyAlias=[127.0.0.1]:$VT_SSH_PORT' "\$@"
EOF
chmod +x "$VT_TMP/fakebin/ssh"
RC=0
PATH="$VT_TMP/fakebin:$PATH" vt ssh t-ed25519 -- echo should-not-run </dev/null >"$VT_TMP/o" 2>"$VT_TMP/e" || RC=$?
expect_eq 255 "$RC" "another host key: ssh refuses"
grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' "$VT_TMP/e" && grep -q 'Host key verification failed' "$VT_TMP/e" &&
	pass || fail "not a host key mismatch: $(cat "$VT_TMP/e")"
grep -q should-not-run "$VT_TMP/o" && fail "the command ran" || pass
# That run got a ticket it never used (ssh stopped before authentication): it expires unused.
expect_eq 1 "$(psql_super "SELECT count(*) FROM ssh_tickets WHERE used_at IS NULL")" \
	"the refused run's ticket is unused"

finish
