#!/usr/bin/env bash
# `vaultterm ssh` through the real CLI against a real server: --help and usage errors; the
# askpass mode (prints a ticket, and only a ticket-shaped value); `ssh keys add|list|rm` with keys
# from ssh-keygen (fingerprints as `ssh-keygen -lf` prints them; a private key refused without
# echoing it); `ssh profiles add|list|show|rm` (names and ids; a member refused); and
# `vaultterm ssh PROFILE -- ARGS` up to the exec of ssh: a stand-in `ssh` first on PATH records
# the arguments and environment it was given and runs $SSH_ASKPASS as OpenSSH would, so the test
# checks the options, the known_hosts file holding exactly the broker's host key, and that the
# askpass answer is a live ticket for that profile (consumed once with the broker's definer
# function). Connecting through the broker with the real OpenSSH client is test_broker_*'s job.
. "$(dirname "$0")/lib.sh"

command -v ssh-keygen >/dev/null || { echo "missing tool: ssh-keygen (openssh-client)" >&2; exit 1; }

PW='correct horse battery staple'
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# cli WANT_RC WHAT ARGS...: runs the CLI (stdin from $CLI_IN, else /dev/null); sets OUT, ERR, RC.
cli() {
	local want=$1 what=$2
	shift 2
	if [ -n "${CLI_IN:-}" ]; then
		OUT=$(vt "$@" 2>"$VT_TMP/cli.err" <<<"$CLI_IN") && RC=0 || RC=$?
	else
		OUT=$(vt "$@" 2>"$VT_TMP/cli.err" </dev/null) && RC=0 || RC=$?
	fi
	ERR=$(cat "$VT_TMP/cli.err")
	if [ "$RC" = "$want" ]; then pass; else
		fail "$what: vaultterm $*: expected exit $want, got $RC; stdout: $OUT; stderr: $ERR"
	fi
}
out_has() { if grep -qE -- "$1" <<<"$OUT"; then pass; else fail "$2: /$1/ not in stdout: $OUT"; fi; }
err_has() { if grep -qE -- "$1" <<<"$ERR"; then pass; else fail "$2: /$1/ not in stderr: $ERR"; fi; }
out_jq() { if jq -e "$1" <<<"$OUT" >/dev/null 2>&1; then pass; else fail "$2: '$1' not true on: $OUT"; fi; }
# re TEXT: TEXT as an extended regular expression matching itself (fingerprints hold '+').
re() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }

# --- help, usage errors, askpass (no server needed) ---------------------------------------------
cli 0 "top-level help lists ssh" help
out_has '^  ssh +connect through the SSH broker' "help lists ssh"
cli 0 "ssh --help" ssh --help
out_has '^usage: vaultterm ssh PROFILE' "ssh --help"
cli 0 "ssh keys --help" ssh keys --help
out_has '^usage: vaultterm ssh keys <subcommand>' "keys usage"
for s in add list rm; do
	cli 0 "ssh keys $s --help" ssh keys "$s" --help
	out_has "^usage: vaultterm ssh keys $s" "keys $s usage"
done
cli 0 "ssh profiles --help" ssh profiles --help
out_has '^usage: vaultterm ssh profiles <subcommand>' "profiles usage"
for s in list show add rm; do
	cli 0 "ssh profiles $s --help" ssh profiles "$s" --help
	out_has "^usage: vaultterm ssh profiles $s" "profiles $s usage"
done
cli 2 "ssh without arguments" ssh
err_has '^usage: vaultterm ssh' "usage on stderr"
cli 2 "unknown keys subcommand" ssh keys frob
cli 2 "keys add without a file" ssh keys add laptop
cli 2 "keys rm without an id" ssh keys rm
cli 2 "keys rm with a non-id" ssh keys rm laptop
cli 2 "profiles add without --host" ssh profiles add p --user u --credential x
err_has 'are required' "says what is missing"
cli 2 "profiles add with a bad port" ssh profiles add p --host h --user u --credential x --port 0
cli 2 "profiles show without a profile" ssh profiles show
cli 4 "ssh keys list without a token" ssh keys list

T='vtt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
# serve_once PAYLOAD: a one-shot stand-in for the ticket server at $VT_TMP/ts.sock.
serve_once() {
	rm -f "$VT_TMP/ts.sock"
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); c.sendall(sys.argv[2].encode()); c.close()' "$VT_TMP/ts.sock" "$1" \
		>"$VT_TMP/ts.ready" &
	for _ in $(seq 1 50); do grep -q ready "$VT_TMP/ts.ready" && return 0; sleep 0.1; done
}
serve_once "$T"
VAULTTERM_ASKPASS_SOCK=$VT_TMP/ts.sock cli 0 "askpass prints the ticket" "prod@127.0.0.1's password: "
expect_eq "$T" "$OUT" "askpass output is the ticket"
serve_once "$T"
VAULTTERM_ASKPASS_SOCK=$VT_TMP/ts.sock cli 0 "askpass without a prompt"
expect_eq "$T" "$OUT" "askpass output without a prompt"
serve_once 'not a ticket, not at all, no: forty-seven byt'
VAULTTERM_ASKPASS_SOCK=$VT_TMP/ts.sock cli 3 "askpass refuses a value that is not a ticket" "Password: "
expect_eq "" "$OUT" "nothing printed for a non-ticket"
wait
VAULTTERM_ASKPASS_SOCK=$VT_TMP/none.sock cli 3 "askpass without a ticket server" "Password: "
err_has 'ticket server is gone' "says the ticket server is gone"
VAULTTERM_ASKPASS_SOCK=$VT_TMP/none.sock cli 0 "a command still runs with the variable set" version
out_has '^vaultterm ' "version, not the ticket"

vt_start

# --- people, a credential ------------------------------------------------------------------------
CLI_IN=$PW cli 0 "register owner" register --email owner@ssh-cli.example --password-stdin
cli 0 "invite bob" org invite --email bob@ssh-cli.example -format=json
BOB_INV=$(jq -r .invite_token <<<"$OUT")
B_DIR=$VT_TMP/cli-bob
CLI_IN=$BOB_INV$'\n'$PW VAULTTERM_CONFIG_DIR=$B_DIR cli 0 "bob accepts" org accept - --password-stdin
bob() { VAULTTERM_CONFIG_DIR=$B_DIR cli "$@"; }

KEYS=$VT_TMP/keys
mkdir -p "$KEYS"
for k in target laptop hostkey; do
	ssh-keygen -q -t ed25519 -N '' -C "cli-$k" -f "$KEYS/$k" </dev/null >/dev/null
done
ssh-keygen -q -t rsa -b 3072 -N '' -C cli-rsa -f "$KEYS/rsa" </dev/null >/dev/null
cli 0 "vault create" vault create ops
cli 0 "store the target's key" secret put ops deploy --type SSH_KEY "private_key=@$KEYS/target" -format=json
SECRET=$(jq -r .id <<<"$OUT")

# --- keys ----------------------------------------------------------------------------------------
cli 0 "keys add" ssh keys add laptop "$KEYS/laptop.pub"
LAPTOP_FP=$(ssh-keygen -lf "$KEYS/laptop.pub" | awk '{print $2}')
LAPTOP_RE=$(re "$LAPTOP_FP")
out_has "^Added key $UUID_RE \(ssh-ed25519 $LAPTOP_RE\)\.$" "keys add output with the ssh-keygen fingerprint"
LAPTOP_ID=$(grep -oE "$UUID_RE" <<<"$OUT")
CLI_IN=$(cat "$KEYS/rsa.pub") cli 0 "keys add from stdin" ssh keys add rsa - -format=json
out_jq ".type == \"ssh-rsa\" and .fingerprint == \"$(ssh-keygen -lf "$KEYS/rsa.pub" | awk '{print $2}')\"" "rsa key json"
cli 1 "keys add a private key" ssh keys add oops "$KEYS/target"
err_has 'looks like a private key' "private key refused"
if grep -qF "$(sed -n 2p "$KEYS/target")" <<<"$OUT$ERR"; then fail "the private key was echoed"; else pass; fi
cli 1 "keys add the same key again" ssh keys add again "$KEYS/laptop.pub"
err_has 'HTTP 409' "duplicate"
cli 3 "keys add a missing file" ssh keys add nothing "$KEYS/nope.pub"
cli 0 "keys list" ssh keys list
out_has '^ID +NAME +TYPE +FINGERPRINT +LAST USED' "keys list header"
out_has "^$LAPTOP_ID +laptop +ssh-ed25519 +$LAPTOP_RE +- *$" "keys list row"
cli 0 "keys list (json)" ssh keys list -format=json
out_jq '(.items | length) == 2' "two keys"
bob 0 "bob's keys: none" ssh keys list -format=json
out_jq '.items == []' "bob sees none of the owner's keys"
bob 1 "bob removes the owner's key" ssh keys rm "$LAPTOP_ID"
err_has 'HTTP 404' "not his key"
cli 0 "keys rm" ssh keys rm "$LAPTOP_ID"
out_has '^Key deleted\.$' "rm output"
cli 1 "keys rm again" ssh keys rm "$LAPTOP_ID"

# --- profiles -------------------------------------------------------------------------------------
cli 0 "profiles add" ssh profiles add prod --host db.internal --port 2222 --user deploy \
	--credential "$SECRET" --host-key "@$KEYS/hostkey.pub"
out_has '^Created profile prod \('"$UUID_RE"'\)\. Connect with `vaultterm ssh prod`\.$' "add output"
PROD_ID=$(grep -oE "$UUID_RE" <<<"$OUT")
cli 0 "profiles add (TOFU, json)" ssh profiles add web --host web.internal --user www \
	--credential "$SECRET" -format=json
out_jq '.name == "web" and .port == 22 and .host_key == null' "web json"
cli 1 "profiles add a duplicate" ssh profiles add prod --host x --user u --credential "$SECRET"
err_has 'HTTP 409' "duplicate profile"
cli 1 "profiles add with a bad credential" ssh profiles add p2 --host x --user u --credential "$(cat /proc/sys/kernel/random/uuid)"
err_has "credential_secret_id" "names the field"
bob 1 "bob (member) cannot add profiles" ssh profiles add bobs --host x --user u --credential "$SECRET"
err_has 'HTTP 403' "forbidden"
bob 0 "bob lists profiles" ssh profiles list
out_has '^NAME +HOST +PORT +USER +HOST KEY +ID' "list header"
HK_FP=$(re "$(ssh-keygen -lf "$KEYS/hostkey.pub" | awk '{print $2}')")
out_has "^prod +db.internal +2222 +deploy +$HK_FP +$PROD_ID" "list row with the pinned key's fingerprint"
out_has '^web +web.internal +22 +www +- ' "TOFU row"
cli 0 "profiles show by name" ssh profiles show prod
out_has "^host key +$HK_FP$" "show: host key"
out_has "^credential +$SECRET$" "show: credential"
cli 0 "profiles show by id (json)" ssh profiles show "$PROD_ID" -format=json
out_jq ".name == \"prod\" and .host_key == \"$(awk '{print $1" "$2}' "$KEYS/hostkey.pub")\"" "show json"
cli 1 "profiles show an unknown name" ssh profiles show nosuch
err_has "no connection profile named 'nosuch'" "unknown profile message"
cli 1 "ssh to an unknown profile" ssh nosuch
err_has "no connection profile named 'nosuch'" "ssh: unknown profile"

# --- vaultterm ssh PROFILE: everything up to the exec of ssh ------------------------------------
FAKE=$VT_TMP/fakebin
export FAKE_SSH_OUT=$VT_TMP/fake-ssh
mkdir -p "$FAKE" "$FAKE_SSH_OUT"
cat >"$FAKE/ssh" <<'EOF'
#!/bin/sh
# A stand-in for OpenSSH's ssh: records what it got, asks SSH_ASKPASS as ssh would.
printf '%s\n' "$@" >"$FAKE_SSH_OUT/args"
printf '%s\n' "SSH_ASKPASS_REQUIRE=$SSH_ASKPASS_REQUIRE" "SSH_ASKPASS=$SSH_ASKPASS" >"$FAKE_SSH_OUT/env"
env >"$FAKE_SSH_OUT/fullenv"
# The ticket server (forked just before the exec, so this script's child): its core limit.
for p in $(pgrep -P $$); do
	sed -n 's/^Max core file size  *//p' "/proc/$p/limits"
done >"$FAKE_SSH_OUT/limits" 2>/dev/null
# A process that is not ssh's child (a grandchild here) asks the ticket server first: no ticket.
sh -c 'python3 -c "import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print(s.recv(100).decode(), end=\"\")" "$VAULTTERM_ASKPASS_SOCK"; true' >"$FAKE_SSH_OUT/stranger" 2>&1
"$SSH_ASKPASS" "$(eval echo \${$#})'s password: " >"$FAKE_SSH_OUT/askpass" 2>"$FAKE_SSH_OUT/askpass.err"
echo $? >"$FAKE_SSH_OUT/askpass.rc"
exit 7
EOF
chmod +x "$FAKE/ssh"
if [ -n "${VT_SSH_PORT:-}" ]; then
	OUT=$(PATH="$FAKE:$PATH" vt ssh prod -- -t uptime 2>"$VT_TMP/cli.err") && RC=0 || RC=$?
	expect_eq 7 "$RC" "vaultterm ssh execs ssh (the stand-in's exit status)"
	api GET /api/ssh/broker "" "$(cat "$VAULTTERM_CONFIG_DIR/token")"
	BHOST=$(jq -r .host <<<"$BODY")
	BKEY=$(jq -r .host_key <<<"$BODY")
	KH=$VAULTTERM_CONFIG_DIR/broker_known_hosts
	expect_eq "-p
$VT_SSH_PORT
-o
UserKnownHostsFile=$KH
-o
GlobalKnownHostsFile=/dev/null
-o
StrictHostKeyChecking=yes
-o
PreferredAuthentications=keyboard-interactive,password
-o
PubkeyAuthentication=no
-o
NumberOfPasswordPrompts=1
prod@$BHOST
-t
uptime" "$(cat "$FAKE_SSH_OUT/args")" "ssh's arguments"
	expect_eq "[$BHOST]:$VT_SSH_PORT $BKEY" "$(cat "$KH")" "known_hosts holds the broker's key only"
	expect_eq 600 "$(stat -c %a "$KH")" "known_hosts is 0600"
	expect_eq "SSH_ASKPASS_REQUIRE=force
SSH_ASKPASS=$(readlink -f "$VAULTTERM_BIN")" "$(cat "$FAKE_SSH_OUT/env")" "askpass environment"
	expect_eq 0 "$(cat "$FAKE_SSH_OUT/askpass.rc")" "askpass exit status"
	TICKET=$(cat "$FAKE_SSH_OUT/askpass")
	[[ $TICKET =~ ^vtt_[A-Za-z0-9_-]{43}$ ]] && pass || fail "askpass gave no ticket: $TICKET"
	expect_eq "" "$(cat "$FAKE_SSH_OUT/stranger")" "a process not started by ssh gets no ticket"
	# secmem_no_dumps: no core file (the hard limit too) and not dumpable (no ptrace by the user)
	grep -Eq '^0 +0 +bytes' "$FAKE_SSH_OUT/limits" && pass ||
		fail "the ticket server may dump core: $(cat "$FAKE_SSH_OUT/limits")"
	grep -qF "$TICKET" "$FAKE_SSH_OUT/fullenv" && fail "the ticket is in ssh's environment" ||
		pass
	grep -q '^VAULTTERM_ASKPASS_SOCK=/tmp/vaultterm-askpass\.' "$FAKE_SSH_OUT/fullenv" && pass ||
		fail "ssh's environment names no ticket server: $(grep ASKPASS "$FAKE_SSH_OUT/fullenv")"
	sock=$(sed -n 's/^VAULTTERM_ASKPASS_SOCK=//p' "$FAKE_SSH_OUT/fullenv")
	for _ in $(seq 1 30); do [ -e "$sock" ] || break; sleep 0.1; done
	[ ! -e "$sock" ] && [ ! -e "$(dirname "$sock")" ] && pass ||
		fail "the ticket server left its socket behind: $sock"
	H=$(printf '%s' "$TICKET" | sha256sum | cut -d' ' -f1)
	expect_eq "$PROD_ID" "$(psql_app "SELECT profile_id FROM vt_ssh_ticket_consume('\\x$H')")" \
		"the askpass answer is a live ticket for prod"
	expect_eq "" "$(psql_app "SELECT profile_id FROM vt_ssh_ticket_consume('\\x$H')")" "once"
	if grep -qF "$TICKET" <<<"$OUT$(cat "$VT_TMP/cli.err")"; then
		fail "the ticket was printed to the user"
	else
		pass
	fi
	# `ssh connect` reaches a profile named like a subcommand.
	cli 0 "profiles add 'keys'" ssh profiles add keys --host k.internal --user u --credential "$SECRET"
	OUT=$(PATH="$FAKE:$PATH" vt ssh connect keys 2>"$VT_TMP/cli.err") && RC=0 || RC=$?
	expect_eq 7 "$RC" "ssh connect keys"
	expect_eq "keys@$BHOST" "$(tail -n1 "$FAKE_SSH_OUT/args")" "destination keys@broker"
else
	OUT=$(PATH="$FAKE:$PATH" vt ssh prod 2>"$VT_TMP/cli.err") && RC=0 || RC=$?
	expect_eq 1 "$RC" "no broker: vaultterm ssh fails before ssh"
	grep -q 'SSH broker is not running' "$VT_TMP/cli.err" && pass ||
		fail "no broker: message: $(cat "$VT_TMP/cli.err")"
	[ ! -e "$FAKE_SSH_OUT/args" ] && pass || fail "ssh was run without a broker"
fi

cli 0 "profiles rm" ssh profiles rm web
out_has '^Profile web deleted\.$' "rm output"
cli 1 "profiles show after rm" ssh profiles show web
bob 1 "bob cannot remove prod" ssh profiles rm prod
err_has 'HTTP 403' "forbidden"

finish
