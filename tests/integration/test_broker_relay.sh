#!/usr/bin/env bash
# The SSH broker's relay, end to end: the real OpenSSH client → the broker → a real OpenSSH sshd
# (tests/integration/sshd_lib.sh), the credential injected from the vault (issue 6, "Show it"):
#  - a shell with `ssh -tt` runs commands and returns their output; the PTY has the client's
#    terminal type and size, and a window change reaches it (and the recording, as an "r" event);
#  - exec returns the remote exit status (0, 3, 255), stdout and stderr apart;
#  - 50 MB of random bytes both ways are byte-exact (sha256): through `cat`, into a remote
#    `sha256sum`, and a remote file `cat` back; also with a key re-exchange every 8 MiB, by the
#    client and by the target (OpenSSH rekeys every ~1 GiB by default);
#  - port forwarding (-L, -W, -R) and sftp are refused with a clear message, and audited
#    (FORWARDING_DENIED once per session, SESSION_DENIED for sftp);
#  - an exec session is audited: SESSION_STARTED, CREDENTIAL_INJECTED (the secret's id and
#    version, no value), COMMAND_EXECUTED (exit status), SESSION_ENDED (bytes, duration), each
#    tied to the user; GET /api/terminal/sessions shows it;
#  - the client never holds the credential: not in anything any client here received (stdout,
#    stderr), not in its files, not in the memory (environment included) of a client process
#    while its session runs (the memory search is proven on a marker in its own argv).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"
. "$(dirname "$0")/broker_lib.sh"

for t in python3 sha256sum script sftp; do
	command -v "$t" >/dev/null || { echo "missing tool: $t (run scripts/deps.sh)" >&2; exit 1; }
done

sshd_start
vt_start
broker_world

# ---- the broker itself: its pinned host key, modern algorithms only ---------------------------
api GET /api/ssh/broker "" "$B_JWT"
expect_status 200 "GET /api/ssh/broker"
expect_jq '.port == '"$VT_SSH_PORT"' and (.host_key | startswith("ssh-ed25519 "))' \
	"the broker's port and Ed25519 host key"
printf '[127.0.0.1]:%s %s\n' "$VT_SSH_PORT" "$(jq -r .host_key <<<"$BODY" | cut -d' ' -f1,2)" \
	>"$VT_CLIENT/known_hosts"
bssh "$BOB_KEY" t-ed25519 -o UserKnownHostsFile="$VT_CLIENT/known_hosts" \
	-o StrictHostKeyChecking=yes -- 'echo pinned'
expect_eq "0 pinned" "$RC $OUT" "the broker's published host key verifies (stderr: $ERR)"
expect_eq "$(jq -r .host_key <<<"$BODY" | cut -d' ' -f1,2)" \
	"$(ssh-keyscan -t ed25519 -p "$VT_SSH_PORT" 127.0.0.1 2>/dev/null | cut -d' ' -f2,3)" \
	"the key the broker shows is the published one"
for weak in "KexAlgorithms=diffie-hellman-group14-sha256" "Ciphers=aes128-ctr" \
	"HostKeyAlgorithms=rsa-sha2-512,ecdsa-sha2-nistp256" "MACs=hmac-sha1"; do
	opt=(-o "$weak")
	# hmac-sha1 only matters without an AEAD cipher
	[ "$weak" = MACs=hmac-sha1 ] && opt+=(-o Ciphers=aes256-ctr)
	bssh "$BOB_KEY" t-ed25519 "${opt[@]}" -- 'echo weak'
	[ "$RC" -eq 255 ] && [ -z "$OUT" ] && pass || fail "the broker accepted $weak"
done
# An RSA login key signs with SHA-2, never SHA-1.
mkloginkey "$B_JWT" bob-rsa rsa
bssh "$LOGIN_KEY" t-ed25519 -- 'echo rsa-sha2'
expect_eq "0 rsa-sha2" "$RC $OUT" "an RSA login key (rsa-sha2) (stderr: $ERR)"
bssh "$LOGIN_KEY" t-ed25519 -o PubkeyAcceptedAlgorithms=ssh-rsa -- 'echo rsa-sha1'
[ "$RC" -eq 255 ] && [ -z "$OUT" ] && pass || fail "an ssh-rsa (SHA-1) signature was accepted"

# ---- shell with a PTY ------------------------------------------------------------------------
BSSH_IN="$VT_TMP/shell.in"
# shellcheck disable=SC2016 # expanded by the remote shell
printf '%s\n' 'echo shell-$((6 * 7))-$(id -un)' 'exit 0' >"$BSSH_IN"
bssh "$BOB_KEY" t-ed25519 -tt
expect_eq 0 "$RC" "shell: exit status (stderr: $ERR)"
grep -q "shell-42-$SSHD_KEY_USER" <<<"$OUT" && pass || fail "shell: no command output in: ${OUT:0:400}"
printf '%s\n' 'exit 5' >"$BSSH_IN"
bssh "$BOB_KEY" t-ed25519 -tt
expect_eq 5 "$RC" "shell: 'exit 5' is the client's exit status"
unset BSSH_IN

# The terminal type and size reach the target's PTY (script(1) gives the client a terminal).
printf '%q ' ssh "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes -i "$BOB_KEY" -p "$VT_SSH_PORT" -tt \
	t-ed25519@127.0.0.1 'echo "term=$TERM size=$(stty size)"' >"$VT_TMP/pty.cmd"
out=$(script -qec "stty cols 123 rows 45; TERM=xterm-256color $(cat "$VT_TMP/pty.cmd")" /dev/null \
	</dev/null 2>&1 | tr -d '\r') || true
printf '%s\n' "$out" >>"$VT_RECEIVED"
grep -q 'term=xterm-256color size=45 123' <<<"$out" && pass || fail "PTY term and size: '$out'"
# A window change reaches the target and the recording ("r" event).
printf '%q ' ssh "${SSH_CLIENT_OPTS[@]}" -o BatchMode=yes -i "$BOB_KEY" -p "$VT_SSH_PORT" -tt \
	t-ed25519@127.0.0.1 'sleep 2; echo "size=$(stty size)"' >"$VT_TMP/pty.cmd"
# (a background job of sh gets /dev/null as stdin: ssh is given the terminal explicitly)
out=$(script -qec "stty cols 80 rows 24; $(cat "$VT_TMP/pty.cmd") </dev/tty & sleep 1;
	stty cols 101 rows 31; kill -WINCH \$!; wait" /dev/null </dev/null 2>&1 | tr -d '\r') || true
printf '%s\n' "$out" >>"$VT_RECEIVED"
grep -q 'size=31 101' <<<"$out" && pass || fail "window change: '$out'"
last_session "$B_JWT"
curl -s -S -o "$VT_TMP/winch.cast" -H "Authorization: Bearer $B_JWT" \
	"$VT_ADDR/api/terminal/sessions/$SESSION_ID/recording" || true
tail -n +2 "$VT_TMP/winch.cast" | jq -se 'any(.[1] == "r" and .[2] == "101x31")' >/dev/null && pass ||
	fail "window change: no \"r\" event 101x31 in the recording: $(head -c 300 "$VT_TMP/winch.cast")"

# ---- exec: exit status, stdout and stderr ------------------------------------------------------
for st in 0 3 255; do
	bssh "$BOB_KEY" t-ed25519 -- "echo out-$st; echo err-$st >&2; exit $st"
	expect_eq "$st" "$RC" "exec: remote exit status $st"
	expect_eq "out-$st" "$OUT" "exec $st: stdout"
	expect_eq "err-$st" "$ERR" "exec $st: stderr"
done
bssh "$BOB_KEY" t-pw -- 'id -un'
expect_eq "0 $SSHD_PW_USER" "$RC $OUT" "exec with the injected password (stderr: $ERR)"

# ---- audit rows of one exec session --------------------------------------------------------
bssh "$BOB_KEY" t-ed25519 -- 'echo audited; exit 3'
expect_eq "3 audited" "$RC $OUT" "the audited exec"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.kind == "exec" and .exit_status == 3 and .bytes_out == 8 and .user_id == "'"$B_USER"'"
	and .profile_id == "'"${PID[ed25519]}"'"' "the session as GET /api/terminal/sessions lists it"
# who: an audit row of this session, made by bob
by_bob() { jq -e --arg u "$B_USER" 'length == 1 and .[0].actor.id == $u and
	.[0].outcome == "success"' <<<"$ROWS" >/dev/null; }
session_audit "$A_JWT" SESSION_STARTED "$SESSION_ID"
by_bob && pass || fail "one SESSION_STARTED row by bob naming the session: $ROWS"
session_audit "$A_JWT" CREDENTIAL_INJECTED "$SESSION_ID"
by_bob && pass || fail "one CREDENTIAL_INJECTED row by bob naming the session: $ROWS"
jq -e --arg s "${S[ed25519]}" '.[0] | tostring | contains($s)' <<<"$ROWS" >/dev/null && pass ||
	fail "CREDENTIAL_INJECTED names the secret ${S[ed25519]}: $ROWS"
jq -e '[.[0].detail | .. | objects | to_entries[] | select(.key | test("version")) | .value] |
	index(1) != null' <<<"$ROWS" >/dev/null && pass ||
	fail "CREDENTIAL_INJECTED gives the secret's version (1): $ROWS"
session_audit "$A_JWT" COMMAND_EXECUTED "$SESSION_ID"
by_bob && pass || fail "one COMMAND_EXECUTED row by bob naming the session: $ROWS"
jq -e '[.[0].detail | .. | objects | to_entries[] | select(.key | test("exit")) | .value |
	numbers] == [3]' <<<"$ROWS" >/dev/null && pass || fail "COMMAND_EXECUTED gives exit status 3: $ROWS"
session_audit "$A_JWT" SESSION_ENDED "$SESSION_ID"
by_bob && pass || fail "one SESSION_ENDED row by bob naming the session: $ROWS"
jq -e '[.[0].detail | .. | objects | to_entries[] | select(.key | test("bytes")) | .value |
	numbers] | index(8) != null' <<<"$ROWS" >/dev/null && pass ||
	fail "SESSION_ENDED gives the bytes out (8): $ROWS"
jq -e '[.[0].detail | .. | objects | to_entries[] | select(.key | test("duration")) | .value |
	numbers] | length == 1' <<<"$ROWS" >/dev/null && pass ||
	fail "SESSION_ENDED gives the duration: $ROWS"
# and none of them holds a credential value
audit_all "$A_JWT"
BODY=$AUDIT
credential_needles "$VT_TMP/needles.cred"
mapfile -t NEEDLES <"$VT_TMP/needles.cred"
absent "the audit trail" "${NEEDLES[@]}"

# ---- 50 MB both ways, byte-exact -------------------------------------------------------------
head -c 50M /dev/urandom >"$VT_TMP/big"
want=$(sha256sum <"$VT_TMP/big" | cut -c1-64)
rc=0
got=$(broker_ssh "$BOB_KEY" t-ed25519 -- cat <"$VT_TMP/big" 2>"$VT_TMP/big.err" | sha256sum |
	cut -c1-64) || rc=$?
expect_eq "0 $want" "$rc $got" "50 MB through a remote cat, byte-exact ($(cat "$VT_TMP/big.err"))"
got=$(broker_ssh "$BOB_KEY" t-ed25519 -- 'sha256sum | cut -c1-64' <"$VT_TMP/big" 2>"$VT_TMP/big.err") ||
	true
expect_eq "$want" "$got" "50 MB up: the remote sha256sum of stdin (EOF relayed) ($(cat "$VT_TMP/big.err"))"
sshd_direct_ssh "$SSHD_KEY_USER" ed25519 -- 'head -c 50M /dev/urandom >bigfile; sha256sum bigfile' \
	</dev/null >"$VT_TMP/bigfile.sum"
want=$(cut -c1-64 "$VT_TMP/bigfile.sum")
got=$(broker_ssh "$BOB_KEY" t-ed25519 -- cat bigfile </dev/null 2>"$VT_TMP/big.err" | sha256sum |
	cut -c1-64) || true
expect_eq "$want" "$got" "50 MB down: a remote file cat back byte-exact ($(cat "$VT_TMP/big.err"))"
last_session "$B_JWT"
BODY=$SESSION
expect_jq '.bytes_out == 52428800' "the download session counts 50 MiB out"
# Key re-exchanges in the middle of a stream: OpenSSH rekeys every ~1 GiB by default (so any
# longer stream meets one); here every 8 MiB. The client rekeys while the broker writes to it
# (down); a second target, with RekeyLimit 8M, rekeys while the broker writes to it (up).
got=$(broker_ssh "$BOB_KEY" t-ed25519 -o RekeyLimit=8M -- cat bigfile </dev/null 2>"$VT_TMP/big.err" |
	sha256sum | cut -c1-64) || true
expect_eq "$want" "$got" "50 MB down, the client rekeying every 8 MiB ($(cat "$VT_TMP/big.err"))"
sshd_start rekey "RekeyLimit 8M"
mkprofile "$A_JWT" t-rekey "${S[ed25519]}" "$SSHD_KEY_USER" "$(sshd_host_key_line ed25519 rekey)" \
	"${SSHD_PORTS[rekey]}"
head -c 50M /dev/urandom >"$VT_TMP/big"
want=$(sha256sum <"$VT_TMP/big" | cut -c1-64)
got=$(broker_ssh "$BOB_KEY" t-rekey -- 'sha256sum | cut -c1-64' <"$VT_TMP/big" 2>"$VT_TMP/big.err") ||
	true
expect_eq "$want" "$got" "50 MB up, the target rekeying every 8 MiB ($(cat "$VT_TMP/big.err"))"
got=$(broker_ssh "$BOB_KEY" t-rekey -- cat bigfile </dev/null 2>"$VT_TMP/big.err" | sha256sum |
	cut -c1-64) || true
expect_eq "$(cut -c1-64 "$VT_TMP/bigfile.sum")" "$got" \
	"50 MB down, the target rekeying every 8 MiB ($(cat "$VT_TMP/big.err"))"
rm -f "$VT_TMP/big"

# ---- forwarding and sftp refused ---------------------------------------------------------------
# (OpenSSH prints a refused channel's reason at LogLevel INFO.) -W opens only a direct-tcpip
# channel: the refusal can only be the channel-open failure, "administratively prohibited".
bssh "$BOB_KEY" t-ed25519 -o LogLevel=INFO -W "127.0.0.1:$SSHD_PORT"
[ "$RC" -ne 0 ] && pass || fail "-W: a direct-tcpip channel was opened"
grep -q 'open failed: administratively prohibited' <<<"$ERR" && pass ||
	fail "-W: not refused as administratively prohibited: '$ERR'"
# With a session running beside it, the refusal must say what was refused: in the channel-open
# failure's reason or in a "vaultterm:" line.
forward_said() { grep -iE 'administratively prohibited: .*forward|^vaultterm: .*forward' <<<"$1" \
	>/dev/null; }
lport=$((20000 + $(od -An -tu2 -N2 /dev/urandom) % 40000))
broker_ssh "$BOB_KEY" t-ed25519 -o LogLevel=INFO -L "127.0.0.1:$lport:127.0.0.1:$SSHD_PORT" -- sleep 3 \
	</dev/null >"$VT_TMP/L.out" 2>"$VT_TMP/L.err" &
lpid=$!
for _ in $(seq 1 50); do
	ss -Hltn "sport = :$lport" | grep -q . && break
	sleep 0.1
done
banner=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport && head -c 7 <&3" 2>/dev/null) || true
wait "$lpid" || true
cat "$VT_TMP/L.out" "$VT_TMP/L.err" >>"$VT_RECEIVED"
[ "$banner" != "SSH-2.0" ] && pass || fail "-L: the forwarded port reached the target's sshd"
forward_said "$(tr -d '\r' <"$VT_TMP/L.err")" && pass ||
	fail "-L: no clear refusal (saying forwarding): '$(cat "$VT_TMP/L.err")'"
bssh "$BOB_KEY" t-ed25519 -o ExitOnForwardFailure=yes -R "0:127.0.0.1:$SSHD_PORT" -- echo reached
[ "$RC" -ne 0 ] && [ "$OUT" != reached ] && pass || fail "-R: remote forwarding was set up: $OUT"
bssh "$BOB_KEY" t-ed25519 -R "0:127.0.0.1:$SSHD_PORT" -- 'sleep 1; echo reached'
[ "$OUT" = reached ] && pass || fail "-R without ExitOnForwardFailure: the command did not run: $ERR"
forward_said "$(tr -d '\r' <<<"$ERR")" && pass || fail "-R: no clear refusal (saying forwarding): '$ERR'"
bssh "$BOB_KEY" t-ed25519 -s -- sftp
[ "$RC" -ne 0 ] && pass || fail "ssh -s sftp: the subsystem was opened"
tr -d '\r' <<<"$ERR" | grep -iE '^vaultterm: .*(sftp|subsystem)' >/dev/null && pass ||
	fail "sftp: no clear refusal (a 'vaultterm:' line naming sftp): '$ERR'"
rc=0
sftp -F /dev/null -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR \
	-o IdentityAgent=none -o IdentitiesOnly=yes -o BatchMode=yes -i "$BOB_KEY" -P "$VT_SSH_PORT" \
	-b - t-ed25519@127.0.0.1 <<<"ls" >"$VT_TMP/sftp.out" 2>&1 || rc=$?
cat "$VT_TMP/sftp.out" >>"$VT_RECEIVED"
[ "$rc" -ne 0 ] && pass || fail "the sftp client got a session: $(cat "$VT_TMP/sftp.out")"
# Refusals are audited: forwarding once per session (by kind), sftp as SESSION_DENIED.
audit_all "$A_JWT" "action=FORWARDING_DENIED"
for want in "local 2" "remote 1"; do
	read -r kind n <<<"$want"
	jq -e --arg u "$B_USER" --arg k "$kind" --argjson n "$n" '[.[] | select(.actor.id == $u and
		.outcome == "denied" and (tostring | contains("\"kind\":\"" + $k + "\"")))] |
		length >= $n' <<<"$AUDIT" >/dev/null && pass ||
		fail "fewer than $n FORWARDING_DENIED ($kind) rows by bob (-W and -L; -R): $AUDIT"
done
audit_all "$A_JWT" "action=SESSION_DENIED"
expect_eq 2 "$(jq --arg u "$B_USER" '[.[] | select(.actor.id == $u and
	(tostring | contains("subsystem")))] | length' <<<"$AUDIT")" \
	"each sftp refusal (ssh -s, sftp) is one SESSION_DENIED row by bob, reason subsystem"

# ---- the client never holds the credential ------------------------------------------------------
cat >"$VT_TMP/memscan.py" <<'EOF'
# memscan.py PID NEEDLE_FILE: prints each needle found in the process's readable memory.
import sys
pid, needles = int(sys.argv[1]), [l.rstrip(b"\n") for l in open(sys.argv[2], "rb") if l.strip()]
found = set()
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if "r" not in f[1]:
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue
        for n in needles:
            if n in data:
                found.add(n)
for n in sorted(found):
    print(n[:40].decode(errors="replace"))
EOF
for prof in t-pw t-pass t-ed25519; do
	marker="vtmark-$(openssl rand -hex 8)"
	broker_ssh "$BOB_KEY" "$prof" -- "echo ready; sleep 5; echo $marker" </dev/null \
		>"$VT_TMP/mem.out" 2>"$VT_TMP/mem.err" &
	bg=$!
	for _ in $(seq 1 100); do
		grep -q ready "$VT_TMP/mem.out" && break
		sleep 0.1
	done
	cpid=$(pgrep -P "$bg" -x ssh | head -n1) || true
	if [ -z "$cpid" ] || ! grep -q ready "$VT_TMP/mem.out"; then
		fail "$prof: no running client session to search ($(cat "$VT_TMP/mem.err"))"
	else
		cp "$VT_TMP/needles.cred" "$VT_TMP/needles.mem"
		printf '%s\n' "$marker" >>"$VT_TMP/needles.mem"
		hits=$(python3 "$VT_TMP/memscan.py" "$cpid" "$VT_TMP/needles.mem")
		grep -qxF "$marker" <<<"$hits" && pass ||
			fail "$prof: the memory search misses the marker in the client's argv (proves nothing)"
		leaked=$(grep -vxF "$marker" <<<"$hits" | tr '\n' ' ') || true
		[ -z "$leaked" ] && pass || fail "$prof: the client's memory holds a credential: $leaked"
		tr '\0' '\n' <"/proc/$cpid/environ" >"$VT_TMP/client.env" 2>/dev/null || true
		[ -s "$VT_TMP/client.env" ] && ! grep -qF -f "$VT_TMP/needles.cred" "$VT_TMP/client.env" &&
			pass || fail "$prof: the client's environment is unreadable or holds a credential"
	fi
	wait "$bg" || true
	cat "$VT_TMP/mem.out" "$VT_TMP/mem.err" >>"$VT_RECEIVED"
	grep -q "$marker" "$VT_TMP/mem.out" && pass || fail "$prof: the session did not finish"
done
[ -s "$VT_RECEIVED" ] && pass || fail "nothing received was kept"
if grep -qaF -f "$VT_TMP/needles.cred" "$VT_RECEIVED"; then
	fail "the clients received a credential: $(grep -oaF -f "$VT_TMP/needles.cred" "$VT_RECEIVED" |
		cut -c1-20 | sort -u | tr '\n' ' ')"
else pass; fi
if grep -rqaF -f "$VT_TMP/needles.cred" "$VT_CLIENT"; then
	fail "the client's files hold a credential: $(grep -rlaF -f "$VT_TMP/needles.cred" "$VT_CLIENT")"
else pass; fi
# positive control: the same search finds the credentials where they are
grep -rqaF -f "$VT_TMP/needles.cred" "$SSHD_KEYS" && pass || fail "the credential search is broken"

server_stops_clean
finish
