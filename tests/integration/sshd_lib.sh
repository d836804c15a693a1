# shellcheck shell=bash disable=SC2034 # the helpers set output variables for the sourcing test
# A real OpenSSH sshd as the broker's target (and, for the bench, as a jump host), for the
# test_broker_*.sh integration tests and bench/broker.sh; sourced after lib.sh (needs $VT_TMP).
# Everything lives in the test's temp dir: config, per-test host keys (Ed25519, RSA, ECDSA), pid
# file and log; `sshd -D -e -f <config>` runs in the background on a free loopback port, without
# PAM, password authentication on, keyboard-interactive off, no forwarding of any kind, AllowUsers
# only this test's two accounts, and the sftp subsystem on (so the broker's refusal of sftp is
# the broker's, not the target's). The tests run as root: each makes two fresh local accounts,
#   $SSHD_KEY_USER  (vtk<hex>) with an authorized Ed25519, RSA, ECDSA and a passphrase-protected
#                   Ed25519 key ($SSHD_KEYS/{ed25519,rsa,ecdsa,ed25519_pass}, passphrase
#                   $SSHD_KEY_PASSPHRASE): the credentials that go into vault secrets;
#   $SSHD_PW_USER   (vtp<hex>) with the password $SSHD_PASSWORD (sshd without PAM checks
#                   /etc/shadow),
# and removes them, with every process they run, on exit (after the chained lib.sh trap).
#
#   sshd_accounts                          create the two accounts and their keys (once)
#   sshd_start [NAME [CONFIG_LINE...]]     start instance NAME (default "target") → SSHD_PORT
#                                          (target) or SSHD_PORTS[NAME]; sshd_config lines that
#                                          override the defaults (e.g. "AllowTcpForwarding local",
#                                          "RekeyLimit 8M")
#   sshd_host_key_line [TYPE [NAME]]       "ssh-ed25519 AAAA..." of the running instance (pinning)
#   sshd_rekey [NAME]                      new host keys, restarted on the same port (mismatch test)
#   sshd_stop [NAME]
#   sshd_direct_ssh USER KEY|- [OPTS...] [-- CMD...]  ssh straight to the target, no broker
#                                          (KEY a name under $SSHD_KEYS; "-": $SSHD_PASSWORD)
#   broker_ssh KEY PROFILE [OPTS...] [-- CMD...]        ssh to the broker with a login key
#   broker_ssh_ticket TICKET PROFILE [OPTS...] [-- CMD...] ... with a one-time ticket
#   client_key NAME [TYPE]                 a fresh login key in $VT_CLIENT (prints its path)
#   sshd_key_b64 KEY                       a target key's private base64 body (for leak checks)
#   sshd_log [NAME]                        the instance's log file
#
# Client side: options given to a helper come first (ssh keeps an option's first value), then
# every ssh here runs with -F /dev/null, no agent, IdentitiesOnly, no known_hosts
# (UserKnownHostsFile=/dev/null, StrictHostKeyChecking=no), BatchMode for key logins; a
# password/ticket is given through SSH_ASKPASS (SSH_ASKPASS_REQUIRE=force) from a file, never on
# a command line. The client's own files live in $VT_CLIENT (its broker login keys) and nothing
# of the target's credentials may ever be found there.

for _t in /usr/sbin/sshd ssh ssh-keygen useradd userdel chpasswd flock ss openssl; do
	command -v "$_t" >/dev/null ||
		{ echo "missing tool: $_t (run scripts/deps.sh: openssh-server, openssh-client)" >&2; exit 1; }
done
unset _t
[ "$(id -u)" -eq 0 ] || { echo "sshd_lib.sh: the broker tests run as root (they create accounts)" >&2; exit 1; }

SSHD_BIN=/usr/sbin/sshd
SSHD_ACCOUNTS_LOCK=/tmp/vt-sshd-accounts.lock # useradd/userdel fail while /etc/passwd is locked
SSHD_KEYS="$VT_TMP/target-keys"               # the target's credentials (go into the vault)
VT_CLIENT="$VT_TMP/client"                    # what the client side holds
SSHD_KEY_USER=""
SSHD_PW_USER=""
SSHD_PASSWORD=""
SSHD_KEY_PASSPHRASE=""
SSHD_PORT=""
declare -A SSHD_PORTS=() SSHD_PIDS=()
mkdir -p "$SSHD_KEYS" "$VT_CLIENT"
chmod 0700 "$SSHD_KEYS" "$VT_CLIENT"

# ---- cleanup, chained before lib.sh's trap ------------------------------------------------------
SSHD_PREV_TRAP=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")

# _sshd_kill_tree PID: the listener, then every per-connection sshd it forked.
_sshd_kill_tree() {
	local pid=$1 kids
	kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ') || true
	kill -TERM "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	[ -n "$kids" ] && kill -TERM $kids 2>/dev/null || true # (they may have gone already)
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

_sshd_del_user() {
	local u=$1 pids
	[ -n "$u" ] && getent passwd "$u" >/dev/null || return 0
	# The account is this test's own: whatever still runs under it was started by this test.
	for _ in 1 2 3; do
		pids=$(pgrep -u "$u" 2>/dev/null | tr '\n' ' ') || true
		[ -z "$pids" ] && break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.2
	done
	flock "$SSHD_ACCOUNTS_LOCK" userdel -r -f "$u" >/dev/null 2>&1 ||
		echo "sshd_lib: userdel $u failed" >&2
}

sshd_cleanup() {
	local rc=$? n
	set +e
	for n in "${!SSHD_PIDS[@]}"; do
		[ -n "${SSHD_PIDS[$n]}" ] && _sshd_kill_tree "${SSHD_PIDS[$n]}"
	done
	_sshd_del_user "$SSHD_KEY_USER"
	_sshd_del_user "$SSHD_PW_USER"
	if [ "$rc" -ne 0 ] || [ "${VT_FAILS:-0}" -ne 0 ]; then
		for n in "${!SSHD_PIDS[@]}"; do
			echo "---- sshd $n log (last 30 lines) ----" >&2
			tail -n 30 "$VT_TMP/sshd-$n/sshd.log" >&2 2>/dev/null
		done
	fi
	(exit "$rc")
	eval "$SSHD_PREV_TRAP"
}
trap sshd_cleanup EXIT

# ---- accounts -------------------------------------------------------------------------------
_sshd_hex() { openssl rand -hex "$1"; }

sshd_accounts() {
	[ -z "$SSHD_KEY_USER" ] || return 0
	local k home
	SSHD_KEY_USER="vtk$(_sshd_hex 5)"
	SSHD_PW_USER="vtp$(_sshd_hex 5)"
	SSHD_PASSWORD="vtpw-$(_sshd_hex 16)"
	SSHD_KEY_PASSPHRASE="vtkp-$(_sshd_hex 12)"
	flock "$SSHD_ACCOUNTS_LOCK" useradd -m -s /bin/bash "$SSHD_KEY_USER"
	flock "$SSHD_ACCOUNTS_LOCK" useradd -m -s /bin/bash "$SSHD_PW_USER"
	# useradd leaves "!" (locked) in /etc/shadow, and sshd without PAM refuses a locked account
	# even a key: "*" is no usable password, not locked.
	flock "$SSHD_ACCOUNTS_LOCK" usermod -p '*' "$SSHD_KEY_USER"
	printf '%s:%s\n' "$SSHD_PW_USER" "$SSHD_PASSWORD" | flock "$SSHD_ACCOUNTS_LOCK" chpasswd
	ssh-keygen -q -t ed25519 -N '' -C "vt-target-ed25519" -f "$SSHD_KEYS/ed25519"
	ssh-keygen -q -t rsa -b 3072 -N '' -C "vt-target-rsa" -f "$SSHD_KEYS/rsa"
	ssh-keygen -q -t ecdsa -b 256 -N '' -C "vt-target-ecdsa" -f "$SSHD_KEYS/ecdsa"
	ssh-keygen -q -t ed25519 -N "$SSHD_KEY_PASSPHRASE" -C "vt-target-ed25519-pass" \
		-f "$SSHD_KEYS/ed25519_pass"
	home=$(getent passwd "$SSHD_KEY_USER" | cut -d: -f6)
	install -d -m 0700 -o "$SSHD_KEY_USER" -g "$SSHD_KEY_USER" "$home/.ssh"
	for k in ed25519 rsa ecdsa ed25519_pass; do
		cat "$SSHD_KEYS/$k.pub"
	done >"$home/.ssh/authorized_keys"
	chown "$SSHD_KEY_USER:$SSHD_KEY_USER" "$home/.ssh/authorized_keys"
	chmod 0600 "$home/.ssh/authorized_keys"
}

# sshd_key_b64 KEY: the base64 body of a private key file, joined (what must never leak).
sshd_key_b64() { sed '1d;$d' "$SSHD_KEYS/$1" | tr -d '\n'; }

# ---- instances --------------------------------------------------------------------------------
_sshd_keygen() {
	local d=$1
	rm -f "$d"/host_*
	ssh-keygen -q -t ed25519 -N '' -C '' -f "$d/host_ed25519"
	ssh-keygen -q -t rsa -b 3072 -N '' -C '' -f "$d/host_rsa"
	ssh-keygen -q -t ecdsa -b 256 -N '' -C '' -f "$d/host_ecdsa"
}

_sshd_config() {
	local name=$1 port=$2 d="$VT_TMP/sshd-$1"
	shift 2
	{
		# The caller's lines first: sshd keeps the first value of a keyword, so they override
		# the defaults below.
		[ "$#" -gt 0 ] && printf '%s\n' "$@"
		printf '%s\n' "ListenAddress 127.0.0.1:$port" \
			"HostKey $d/host_ed25519" "HostKey $d/host_rsa" "HostKey $d/host_ecdsa" \
			"PidFile $d/sshd.pid" "LogLevel VERBOSE" \
			"UsePAM no" "PasswordAuthentication yes" "PermitEmptyPasswords no" \
			"KbdInteractiveAuthentication no" "PubkeyAuthentication yes" \
			"AuthorizedKeysFile .ssh/authorized_keys" "StrictModes no" \
			"PermitRootLogin no" "AllowUsers $SSHD_KEY_USER $SSHD_PW_USER" \
			"MaxStartups 300:30:600" "MaxSessions 16" "MaxAuthTries 10" "LoginGraceTime 60" \
			"PrintMotd no" "PrintLastLog no" "UseDNS no" "ClientAliveInterval 0" \
			"AllowTcpForwarding no" "AllowStreamLocalForwarding no" \
			"AllowAgentForwarding no" "X11Forwarding no" "PermitTunnel no" \
			"GatewayPorts no" "PermitListen none" "PermitOpen none" \
			"Subsystem sftp /usr/lib/openssh/sftp-server"
	} >"$d/sshd_config"
}

# _sshd_launch NAME PORT: starts the instance on PORT; 0 once it listens, 1 if the port was
# taken, 2 on any other failure.
_sshd_launch() {
	local name=$1 port=$2 d="$VT_TMP/sshd-$1" pid
	: >"$d/sshd.log"
	"$SSHD_BIN" -D -e -f "$d/sshd_config" >>"$d/sshd.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		if grep -q "Server listening on 127.0.0.1 port $port" "$d/sshd.log"; then
			SSHD_PIDS[$name]=$pid
			SSHD_PORTS[$name]=$port
			[ "$name" = target ] && SSHD_PORT=$port
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			grep -q 'Address already in use' "$d/sshd.log" && return 1
			echo "sshd $name did not start:" >&2
			cat "$d/sshd.log" >&2
			return 2
		fi
		sleep 0.05
	done
	_sshd_kill_tree "$pid"
	echo "sshd $name did not listen in 5 s:" >&2
	cat "$d/sshd.log" >&2
	return 2
}

sshd_start() {
	local name=${1:-target} d port rc
	[ "$#" -gt 0 ] && shift
	sshd_accounts
	d="$VT_TMP/sshd-$name"
	mkdir -p "$d"
	chmod 0700 "$d"
	# sshd's privilege separation directory (systemd makes it; a bare container may lack it).
	[ -d /run/sshd ] || install -d -m 0755 /run/sshd
	_sshd_keygen "$d"
	for _ in $(seq 1 30); do
		port=$((20000 + $(od -An -tu2 -N2 /dev/urandom) % 40000))
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && continue
		_sshd_config "$name" "$port" "$@"
		rc=0
		_sshd_launch "$name" "$port" || rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 1 ] || return 1
	done
	echo "sshd $name: no free port found" >&2
	return 1
}

sshd_stop() {
	local name=${1:-target}
	[ -n "${SSHD_PIDS[$name]:-}" ] && _sshd_kill_tree "${SSHD_PIDS[$name]}"
	SSHD_PIDS[$name]=""
}

# sshd_rekey [NAME]: fresh host keys of every type; the instance restarts on the same port.
sshd_rekey() {
	local name=${1:-target} port
	port=${SSHD_PORTS[$name]}
	sshd_stop "$name"
	_sshd_keygen "$VT_TMP/sshd-$name"
	for _ in $(seq 1 50); do
		_sshd_launch "$name" "$port" && return 0
		sleep 0.1
	done
	echo "sshd $name: could not restart on port $port" >&2
	return 1
}

# sshd_host_key_line [TYPE [NAME]]: TYPE ed25519 (default), rsa or ecdsa; "<alg> <base64>".
sshd_host_key_line() { cut -d' ' -f1,2 "$VT_TMP/sshd-${2:-target}/host_${1:-ed25519}.pub"; }

sshd_log() { printf '%s' "$VT_TMP/sshd-${1:-target}/sshd.log"; }

# ---- clients --------------------------------------------------------------------------------
SSH_CLIENT_OPTS=(-F /dev/null -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
	-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -o IdentityAgent=none
	-o IdentitiesOnly=yes -o ConnectTimeout=20 -o ServerAliveInterval=0 -o ForwardAgent=no
	-o ForwardX11=no -o ClearAllForwardings=no -o ControlMaster=no -o ControlPath=none)

# _askpass SECRET: an SSH_ASKPASS script that prints SECRET (kept in a 0600 file of $VT_TMP).
_askpass() {
	local f="$VT_TMP/askpass.$BASHPID.$RANDOM"
	printf '%s\n' "$1" >"$f.secret"
	chmod 0600 "$f.secret"
	printf '#!/bin/sh\ncat %q\n' "$f.secret" >"$f"
	chmod 0700 "$f"
	printf '%s' "$f"
}

# _split_opts ARGS...: ssh options up to "--" into OPTS, the remote command after it into CMD.
_split_opts() {
	OPTS=()
	CMD=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		OPTS+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	CMD=("$@")
}

# sshd_direct_ssh USER KEY|- [SSH_OPTS...] [-- CMD...]: straight to the target, no broker. KEY is
# a name under $SSHD_KEYS (ed25519, rsa, ecdsa, ed25519_pass: its passphrase comes through
# askpass) or a path; "-" logs in with $SSHD_PASSWORD.
sshd_direct_ssh() {
	local user=$1 key=$2 ap rc=0 OPTS CMD
	shift 2
	_split_opts "$@"
	if [ "$key" = - ]; then
		ap=$(_askpass "$SSHD_PASSWORD")
		OPTS+=(-o PubkeyAuthentication=no -o PreferredAuthentications=password)
	else
		[ -f "$key" ] || key="$SSHD_KEYS/$key"
		ap=$(_askpass "$SSHD_KEY_PASSPHRASE")
		OPTS+=(-o PreferredAuthentications=publickey -i "$key")
	fi
	SSH_ASKPASS="$ap" SSH_ASKPASS_REQUIRE=force DISPLAY=none \
		ssh "${OPTS[@]}" "${SSH_CLIENT_OPTS[@]}" -o NumberOfPasswordPrompts=1 -p "$SSHD_PORT" \
		"$user@127.0.0.1" "${CMD[@]}" || rc=$?
	rm -f "$ap" "$ap.secret"
	return "$rc"
}

# broker_ssh KEY PROFILE [SSH_OPTS...] [-- CMD...]: to the broker with a login key (a path, as
# registered with POST /api/ssh/keys), BatchMode.
broker_ssh() {
	local key=$1 profile=$2 OPTS CMD
	shift 2
	_split_opts "$@"
	ssh "${OPTS[@]}" "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes \
		-o PreferredAuthentications=publickey -i "$key" -p "$VT_SSH_PORT" "$profile@127.0.0.1" \
		"${CMD[@]}"
}

# broker_ssh_ticket TICKET PROFILE [SSH_OPTS...] [-- CMD...]: the ticket as the password (or the
# keyboard-interactive answer), through askpass; no key is offered.
broker_ssh_ticket() {
	local ticket=$1 profile=$2 ap rc=0 OPTS CMD
	shift 2
	_split_opts "$@"
	ap=$(_askpass "$ticket")
	SSH_ASKPASS="$ap" SSH_ASKPASS_REQUIRE=force DISPLAY=none \
		ssh "${OPTS[@]}" "${SSH_CLIENT_OPTS[@]}" -o PubkeyAuthentication=no \
		-o PreferredAuthentications=keyboard-interactive,password -o NumberOfPasswordPrompts=1 \
		-p "$VT_SSH_PORT" "$profile@127.0.0.1" "${CMD[@]}" || rc=$?
	rm -f "$ap" "$ap.secret"
	return "$rc"
}

# client_key NAME [TYPE]: a fresh login key for the broker in $VT_CLIENT (Ed25519 by default, or
# rsa, ecdsa); prints its path.
client_key() {
	ssh-keygen -q -t "${2:-ed25519}" -N '' -C "vt-client-$1" -f "$VT_CLIENT/$1"
	printf '%s' "$VT_CLIENT/$1"
}
