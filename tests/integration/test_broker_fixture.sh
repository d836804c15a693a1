#!/usr/bin/env bash
# The broker tests' target (tests/integration/sshd_lib.sh) checked on its own, with the plain
# OpenSSH client and no broker, so a broker test that fails is known to fail in the broker:
#  - a real sshd on a free loopback port with this test's host keys (the Ed25519, RSA and ECDSA
#    host keys it offers are the ones pinned from its files);
#  - the key account logs in with each of its Ed25519, RSA, ECDSA keys and the passphrase-protected
#    one, the password account with its password; a wrong password, an unauthorized key, root and
#    a stranger's name are refused; exec returns the remote exit status (0, 3, 255);
#  - sftp works (so the broker's refusal of it is the broker's); port forwarding is refused;
#  - sshd_rekey gives new host keys on the same port and a pinned client notices;
#  - after the test, the accounts and every sshd are gone (checked by a second, nested run).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_start
[ -n "$SSHD_PORT" ] && pass || fail "sshd_start set no port"
ss -Hltn "sport = :$SSHD_PORT" | grep -q 127.0.0.1 && pass || fail "nothing listens on $SSHD_PORT"

# The host keys it offers are the files' keys.
for t in ed25519 rsa ecdsa; do
	got=$(ssh-keyscan -t "$t" -p "$SSHD_PORT" 127.0.0.1 2>/dev/null | cut -d' ' -f2,3)
	expect_eq "$(sshd_host_key_line "$t")" "$got" "the target offers its $t host key"
done

# Every credential logs in; exec returns the remote status.
for k in ed25519 rsa ecdsa ed25519_pass; do
	out=$(sshd_direct_ssh "$SSHD_KEY_USER" "$k" -- 'id -un; echo ok-$((40 + 2))' </dev/null 2>&1) ||
		true
	expect_eq "$SSHD_KEY_USER ok-42" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')" "key $k logs in"
done
out=$(sshd_direct_ssh "$SSHD_PW_USER" - -- 'id -un' </dev/null 2>&1) || true
expect_eq "$SSHD_PW_USER" "$out" "the password logs in"
for st in 0 3 255; do
	rc=0
	sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- "exit $st" </dev/null || rc=$?
	expect_eq "$st" "$rc" "exec exit status $st"
done

# Refusals: a wrong password, an unauthorized key, root, a stranger.
SAVED=$SSHD_PASSWORD
SSHD_PASSWORD="wrong-$SAVED"
rc=0
sshd_direct_ssh "$SSHD_PW_USER" - -- true </dev/null 2>/dev/null || rc=$?
expect_eq 255 "$rc" "a wrong password is refused"
SSHD_PASSWORD=$SAVED
stranger=$(client_key stranger)
rc=0
sshd_direct_ssh "$SSHD_KEY_USER" "$stranger" -- true </dev/null 2>/dev/null || rc=$?
expect_eq 255 "$rc" "an unauthorized key is refused"
rc=0
sshd_direct_ssh root ed25519 -- true </dev/null 2>/dev/null || rc=$?
expect_eq 255 "$rc" "root is refused"
rc=0
sshd_direct_ssh "$SSHD_PW_USER" ed25519 -- true </dev/null 2>/dev/null || rc=$?
expect_eq 255 "$rc" "the key user's key does not open the password account"

# sftp is served; forwarding is not.
printf 'sftp-probe\n' >"$VT_TMP/probe.txt"
ap_out=$(sftp -F /dev/null -o UserKnownHostsFile=/dev/null \
	-o StrictHostKeyChecking=no -o LogLevel=ERROR -o IdentityAgent=none -o IdentitiesOnly=yes \
	-o BatchMode=yes -i "$SSHD_KEYS/ed25519" -P "$SSHD_PORT" -b - "$SSHD_KEY_USER@127.0.0.1" \
	<<<"put $VT_TMP/probe.txt probe.txt" 2>&1) && pass || fail "sftp to the target: $ap_out"
expect_eq sftp-probe "$(sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- cat probe.txt </dev/null)" \
	"the file sent by sftp"
fwd=$(sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -o ExitOnForwardFailure=yes -W "127.0.0.1:$SSHD_PORT" \
	</dev/null 2>&1) && fail "a direct-tcpip channel was opened: $fwd" || pass
grep -qi 'prohibited\|forwarding' <<<"$fwd" && pass || fail "forwarding refusal: '$fwd'"

# A new host key on the same port: a client that pinned the old one refuses it.
old=$(sshd_host_key_line ed25519)
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$old" >"$VT_TMP/known_hosts"
pinned=(-o UserKnownHostsFile="$VT_TMP/known_hosts" -o StrictHostKeyChecking=yes
	-o HostKeyAlgorithms=ssh-ed25519)
out=$(sshd_direct_ssh "$SSHD_KEY_USER" ed25519 "${pinned[@]}" -- echo pinned </dev/null 2>&1) ||
	true
expect_eq pinned "$out" "the pinned host key is accepted"
port=$SSHD_PORT
sshd_rekey
expect_eq "$port" "$SSHD_PORT" "rekey keeps the port"
[ "$(sshd_host_key_line ed25519)" != "$old" ] && pass || fail "rekey kept the host key"
out=$(sshd_direct_ssh "$SSHD_KEY_USER" ed25519 "${pinned[@]}" -- echo pinned </dev/null 2>&1) &&
	fail "a changed host key was accepted" || pass
grep -q 'HOST IDENTIFICATION HAS CHANGED\|Host key verification failed' <<<"$out" && pass ||
	fail "changed host key: '$out'"

# Cleanup: a nested run of the fixture leaves no account and no sshd behind.
if [ -z "${VT_FIXTURE_NESTED:-}" ]; then
	VT_FIXTURE_NESTED=1 bash -c '
		. "$1/lib.sh"; . "$1/sshd_lib.sh"; sshd_start
		printf "%s %s %s\n" "$SSHD_KEY_USER" "$SSHD_PW_USER" "${SSHD_PIDS[target]}" >"$2"
		exit 0' nested "$(dirname "$0")" "$VT_TMP/nested.txt" >/dev/null 2>&1
	read -r nk np npid <"$VT_TMP/nested.txt"
	getent passwd "$nk" "$np" >/dev/null && fail "the nested run left its accounts" || pass
	[ ! -d "/home/$nk" ] && [ ! -d "/home/$np" ] && pass || fail "the nested run left a home"
	kill -0 "$npid" 2>/dev/null && fail "the nested run left sshd $npid" || pass
fi

finish
