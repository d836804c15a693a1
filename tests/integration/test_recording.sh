#!/usr/bin/env bash
# The broker's recorder against a real database, without the SSH server (issue 6 items 6 and 7;
# docs/broker.md "Recording and live scanning"). recorder_driver plays the session thread: it
# inserts a terminal session, loads the org's vault fingerprints and feeds the recorder a
# "target output" in random slices. Then, through the real API and CLI:
#  - the recording (GET /api/terminal/sessions/{id}/recording, `vaultterm recording cat|get|
#    play`) is asciicast v2 whose output is exactly the input with the vault secret (a password
#    stored through the API) and a GitHub token replaced by labels; neither value appears;
#  - each secret is one exposure (one CREDENTIAL_EXPOSURE_DETECTED row), though printed 3 times;
#  - every fetch is audited as RECORDING_VIEWED; a member sees only their own sessions; another
#    org, or a token without audit:read, gets 404 (and the list refuses the token);
#  - the recording spans several chunks, all envelopes: neither the secrets nor the ordinary
#    output are in the cluster files (heap and WAL) after CHECKPOINT (positive control: an e-mail);
#  - a driver killed with SIGKILL mid-session leaves a readable recording of everything it was
#    given more than a second before, still without the secret, the tail the scanner had not
#    cleared with its long tokens masked;
#  - an empty session and a session with recording off store nothing (404); slow output is
#    flushed every second and settles into final chunks;
#  - master key rotation re-wraps every chunk and the recording reads the same after it;
#  - a moved or missing chunk makes the recording refuse to open (500, not a partial file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

DRIVER="$(dirname "$VAULTTERM_BIN")/recorder_driver"
[ -x "$DRIVER" ] || { echo "missing $DRIVER (build the recorder_driver target)" >&2; exit 1; }
for t in python3 pg_dump; do
	command -v "$t" >/dev/null || { echo "missing tool: $t (run scripts/deps.sh)" >&2; exit 1; }
done
PG="$VT_DATA/pg"

vt_start

# ---- people, a stored secret -----------------------------------------------------------------
reg alice@rec.example
A_JWT=$REG_TOKEN A_ORG=$REG_ORG A_USER=$REG_USER
join "$A_JWT" bob@rec.example member
B_JWT=$JOIN_TOKEN B_USER=$JOIN_USER
reg mallory@other.example
M_JWT=$REG_TOKEN
mktoken "$A_JWT" auditor '["audit:read"]'
AUD_TOK=$TOK
mktoken "$A_JWT" reader '["vault:read"]'
READ_TOK=$TOK

mkvault "$A_JWT" prod
PWV=$(canary pw)
mksecret "$A_JWT" "$VAULT_ID" "$(jq -nc --arg p "$PWV" \
	'{type:"PASSWORD",name:"db",fields:{password:$p,username:"app"}}')"
S_PW=$SECRET_ID
# A GitHub classic token with a valid CRC-32 checksum (the github-pat rule checks it).
GH=$(python3 -c '
import secrets, zlib
a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
b = "".join(secrets.choice(a) for _ in range(30))
v = zlib.crc32(b.encode()); s = ""
for _ in range(6):
    s = a[v % 62] + s; v //= 62
print("ghp_" + b + s)')
FILL=$(canary fill)   # ordinary output: must reach the recording, and never the disk in clear

# make_output FILE LINES: a terminal session's output with both secrets in it, three times each.
make_output() {
	{
		printf '\e[1;32malice@prod\e[0m:~$ cat /etc/app.conf\r\n'
		printf 'user = app\r\npassword = %s\r\n' "$PWV"
		printf 'export GH_TOKEN=%s\r\n' "$GH"
		printf 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91 and a bell \a and a tab\t.\r\n'
		for i in $(seq 1 "$2"); do
			printf '%s line %06d the quick brown fox jumps over the lazy dog\r\n' "$FILL" "$i"
			if [ "$i" -eq $(($2 / 2)) ]; then
				printf '{"db":{"password":"%s"}}\r\n' "$PWV"
				printf 'again \e[31m%s\e[0m and %s\r\n' "$GH" "$GH"
			fi
		done
		printf 'colour: \e[33m%s\e[0m\r\n' "$PWV"
		printf 'alice@prod:~$ exit\r\nlogout\r\n'
	} >"$1"
}
# expected FILE: what the recording's output must be.
expected() {
	python3 - "$1" "$PWV" "$GH" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
d = d.replace(sys.argv[2].encode(), b"[REDACTED:vault-secret]")
d = d.replace(sys.argv[3].encode(), b"[REDACTED:github-pat]")
sys.stdout.buffer.write(d)
EOF
}
# cast_output FILE: the "o" events' data of an asciicast file, concatenated.
cast_output() { tail -n +2 "$1" | jq -j 'select(.[1] == "o") | .[2]'; }
# get_cast ID BEARER FILE: GET .../recording into FILE (headers in FILE.h); sets STATUS.
get_cast() {
	STATUS=$(curl -s -S -o "$3" -D "$3.h" -w '%{http_code}' -H "Authorization: Bearer $2" \
		"$VT_ADDR/api/terminal/sessions/$1/recording") || STATUS=000
	BODY=$(head -c 2000 "$3")
}
# drive USER [ARGS...] < input: runs the driver for A's org; SID and DRV (its last line).
drive() {
	local user=$1
	shift
	"$DRIVER" "$VT_DATA" "$A_ORG" "$user" "$@" >"$VT_TMP/drv.out" 2>"$VT_TMP/drv.err" ||
		fail "recorder_driver $*: $(cat "$VT_TMP/drv.err")"
	SID=$(sed -n 's/^session //p' "$VT_TMP/drv.out")
	DRV=$(tail -n 1 "$VT_TMP/drv.out")
}
# no_secret WHAT FILE: neither secret value occurs in FILE.
no_secret() {
	if grep -aqF -e "$PWV" -e "$GH" "$2"; then fail "$1: a secret value is in it"; else pass; fi
}

# ---- a recorded session -----------------------------------------------------------------------
make_output "$VT_TMP/out1" 9000      # ~700 KB: several chunks
expected "$VT_TMP/out1" >"$VT_TMP/want1"
drive "$A_USER" --max-slice 3000 <"$VT_TMP/out1"
S1=$SID
expect_eq "bytes_out=$(wc -c <"$VT_TMP/out1") exposures=2 recorded=1 audits=2" "$DRV" \
	"the driver: every byte seen, one exposure per secret (each printed 3 times), recorded"

get_cast "$S1" "$A_JWT" "$VT_TMP/c1"
expect_status 200 "the owner gets the recording"
grep -qi '^content-type: application/x-asciicast' "$VT_TMP/c1.h" && pass ||
	fail "content type: $(grep -i content-type "$VT_TMP/c1.h")"
expect_eq "2 100 30 xterm-256color" "$(head -n 1 "$VT_TMP/c1" |
	jq -r '"\(.version) \(.width) \(.height) \(.env.TERM)"')" "the asciicast header"
expect_eq 0 "$(tail -n +2 "$VT_TMP/c1" | jq -c 'select(type != "array" or length != 3 or
	(.[0] | type) != "number" or (.[1] | IN("o", "r") | not))' | wc -l)" "every line an event"
expect_eq 0 "$(tail -n +2 "$VT_TMP/c1" | jq -s '[.[][0]] | . as $t |
	[range(1; length) | select($t[.] < $t[. - 1])] | length')" "event times never go back"
NR=$(tail -n +2 "$VT_TMP/c1" | jq -r 'select(.[1] == "r") | .[2]' | grep -cE '^[0-9]+x[0-9]+$') || true
[ "$NR" -gt 0 ] && pass || fail "resize events (\"r\", COLSxROWS)"
cast_output "$VT_TMP/c1" >"$VT_TMP/got1"
cmp -s "$VT_TMP/want1" "$VT_TMP/got1" && pass ||
	fail "the recorded output is not the input with the secrets redacted: $(cmp "$VT_TMP/want1" \
		"$VT_TMP/got1" 2>&1 | head -n 1)"
no_secret "the recording" "$VT_TMP/c1"
grep -qF "$FILL line 009000" "$VT_TMP/got1" && pass || fail "the last ordinary line is recorded"

# The CLI: ls, cat, get, play.
export VAULTTERM_TOKEN=$A_JWT
vt recording ls --format json >"$VT_TMP/ls.json" && pass || fail "vaultterm recording ls"
expect_eq "true 2" "$(jq -r --arg s "$S1" '.items[] | select(.id == $s) |
	"\(.recorded) \(.exposures)"' "$VT_TMP/ls.json")" "recording ls: recorded, 2 exposures"
vt recording ls >"$VT_TMP/ls.txt" && grep -qF "$S1" "$VT_TMP/ls.txt" && pass ||
	fail "recording ls (table) lists the session: $(head -n 3 "$VT_TMP/ls.txt")"
vt recording get "$S1" >"$VT_TMP/get1.stdout" && cmp -s "$VT_TMP/c1" "$VT_TMP/get1.stdout" &&
	pass || fail "recording get to stdout is the .cast as served"
vt recording cat "$S1" >"$VT_TMP/cat1" && pass || fail "vaultterm recording cat"
cmp -s "$VT_TMP/want1" "$VT_TMP/cat1" && pass || fail "recording cat prints the output stream"
vt recording get "$S1" -o "$VT_TMP/get1.cast" && pass || fail "vaultterm recording get -o"
cmp -s "$VT_TMP/c1" "$VT_TMP/get1.cast" && pass || fail "recording get saves the .cast as served"
expect_eq 600 "$(stat -c %a "$VT_TMP/get1.cast")" "the saved file is 0600"
vt recording play "$S1" --speed 1000 --max-wait 0 >"$VT_TMP/play1" && pass ||
	fail "vaultterm recording play"
cmp -s "$VT_TMP/want1" "$VT_TMP/play1" && pass || fail "recording play replays the same output"
vt recording play "$S1" --speed 0 >/dev/null 2>&1 && fail "--speed 0 is refused" || pass
vt recording cat not-an-id >/dev/null 2>&1 && fail "a bad id is refused" || pass
unset VAULTTERM_TOKEN

# ---- audit: one exposure row per secret; one RECORDING_VIEWED row per fetch --------------------
audit_all "$A_JWT" "action=CREDENTIAL_EXPOSURE_DETECTED"
expect_eq 2 "$(jq --arg s "$S1" '[.[] | select(.resource.id == $s)] | length' <<<"$AUDIT")" \
	"two CREDENTIAL_EXPOSURE_DETECTED rows for the session"
expect_eq 1 "$(jq --arg s "$S_PW" --arg sid "$S1" '[.[] | select(.resource.id == $sid and
	(.detail.fingerprint // "" | startswith($s)))] | length' <<<"$AUDIT")" \
	"one of them names the stored secret"
BODY=$AUDIT
absent "the exposure rows" "$PWV" "$GH"
audit_all "$A_JWT" "action=RECORDING_VIEWED"
expect_eq 5 "$(jq --arg s "$S1" '[.[] | select(.resource.id == $s)] | length' <<<"$AUDIT")" \
	"RECORDING_VIEWED once per fetch (API, get twice, cat, play)"

# ---- who sees what ----------------------------------------------------------------------------
make_output "$VT_TMP/out2" 20
drive "$B_USER" --max-slice 64 <"$VT_TMP/out2"
S2=$SID
api GET /api/terminal/sessions "" "$B_JWT"
expect_status 200 "a member lists sessions"
expect_eq "$S2" "$(jq -r '[.items[].id] | join(",")' <<<"$BODY")" "a member sees only their own"
api GET /api/terminal/sessions "" "$A_JWT"
expect_jq '[.items[].id] | length == 2' "the owner sees every session"
api GET "/api/terminal/sessions?limit=1" "" "$A_JWT"
expect_eq "$S2" "$(jq -r '.items[0].id' <<<"$BODY")" "newest first"
CUR=$(jq -r '.next_cursor' <<<"$BODY")
api GET "/api/terminal/sessions?limit=1&cursor=$CUR" "" "$A_JWT"
expect_eq "$S1 null" "$(jq -r '"\(.items[0].id) \(.next_cursor)"' <<<"$BODY")" "the next page"
api GET "/api/terminal/sessions?cursor=garbage" "" "$A_JWT"
expect_status 400 "a bad cursor"
get_cast "$S1" "$B_JWT" "$VT_TMP/x"
expect_status 404 "a member cannot read another member's recording"
get_cast "$S2" "$B_JWT" "$VT_TMP/c2"
expect_status 200 "a member reads their own recording"
get_cast "$S1" "$M_JWT" "$VT_TMP/x"
expect_status 404 "another org gets 404"
api GET /api/terminal/sessions "" "$M_JWT"
expect_jq '.items | length == 0' "another org lists nothing"
get_cast "$S1" "$AUD_TOK" "$VT_TMP/x"
expect_status 200 "an audit:read token reads a recording"
get_cast "$S1" "$READ_TOK" "$VT_TMP/x"
expect_status 404 "a vault:read token does not"
api GET /api/terminal/sessions "" "$READ_TOK"
expect_status 403 "nor lists sessions"
get_cast "$(uuid_rand)" "$A_JWT" "$VT_TMP/x"
expect_status 404 "an unknown session"

# ---- empty session, recording off ---------------------------------------------------------------
drive "$A_USER" </dev/null
S_EMPTY=$SID
expect_eq "bytes_out=0 exposures=0 recorded=0 audits=0" "$DRV" "an empty session"
get_cast "$S_EMPTY" "$A_JWT" "$VT_TMP/x"
expect_status 404 "an empty session has no recording"
drive "$A_USER" --no-record <"$VT_TMP/out2"
S_OFF=$SID
expect_eq "recorded=0 exposures=2" "$(sed -E 's/.*(exposures=[0-9]+) (recorded=[0-9]).*/\2 \1/' \
	<<<"$DRV")" "recording off: scanned all the same"
get_cast "$S_OFF" "$A_JWT" "$VT_TMP/x"
expect_status 404 "recording off: nothing stored"
expect_eq 0 "$(psql_super "SELECT count(*) FROM recording_chunks WHERE session_id IN
	('$S_EMPTY', '$S_OFF')")" "no chunk rows for them"

# ---- slow output: flushed every second, settled into final chunks --------------------------------
make_output "$VT_TMP/out4" 600
expected "$VT_TMP/out4" >"$VT_TMP/want4"
drive "$A_USER" --max-slice 300 --delay-ms 15 <"$VT_TMP/out4"
S4=$SID
expect_eq "t" "$(psql_super "SELECT count(*) >= 2 AND bool_and(final) FROM recording_chunks
	WHERE session_id = '$S4'")" "a slow session's flushes left several final chunks"
get_cast "$S4" "$A_JWT" "$VT_TMP/c4"
expect_status 200 "the slow session's recording"
cast_output "$VT_TMP/c4" >"$VT_TMP/got4"
cmp -s "$VT_TMP/want4" "$VT_TMP/got4" && pass || fail "the slow session's recording is not exact"

# ---- a crash: everything older than a second is readable ---------------------------------------
make_output "$VT_TMP/out3" 3000
expected "$VT_TMP/out3" >"$VT_TMP/want3"
mkfifo "$VT_TMP/crash.fifo"
"$DRIVER" "$VT_DATA" "$A_ORG" "$A_USER" --max-slice 2000 --crash <"$VT_TMP/out3" \
	>"$VT_TMP/crash.fifo" 2>"$VT_TMP/crash.err" &
CRASH_PID=$!
exec 9<"$VT_TMP/crash.fifo"
read -r -u 9 _ S3 || true
read -r -u 9 fed || true
expect_eq fed "$fed" "the crashing driver fed its input"
sleep 2
kill -KILL "$CRASH_PID"
wait "$CRASH_PID" 2>/dev/null || true
exec 9<&-
expect_eq "false" "$(psql_super "SELECT string_agg(DISTINCT final::text, ',') FROM recording_chunks
	WHERE session_id = '$S3' AND seq = (SELECT max(seq) FROM recording_chunks
	WHERE session_id = '$S3')")" "the crash left the last chunk provisional"
get_cast "$S3" "$A_JWT" "$VT_TMP/c3"
expect_status 200 "the crashed session's recording is readable"
cast_output "$VT_TMP/c3" >"$VT_TMP/got3"
# Everything is there; only in the tail the scanner had not cleared (its window, 16 KiB and some
# escape bytes) may runs of 8+ token bytes be masked, one '*' per character (docs/broker.md §7).
res=$(python3 - "$VT_TMP/want3" "$VT_TMP/got3" <<'EOF'
import sys
want, got = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
p = 0
while p < min(len(want), len(got)) and want[p] == got[p]:
    p += 1
def tok(b):
    return b >= 0x80 or (b > 0x20 and b != 0x7f and chr(b) not in "\"'`,;()[]{}<>|")
i = j = p
stars = 0
while i < len(want) and j < len(got):
    if want[i] == got[j]:
        i += 1; j += 1
    elif got[j] == ord("*") and tok(want[i]):
        i += 1; j += 1; stars += 1
        while i < len(want) and 0x80 <= want[i] <= 0xbf:
            i += 1
    else:
        break
if i != len(want) or j != len(got):
    print("differs at byte %d of %d (not a masked token byte)" % (i, len(want)))
elif len(want) - p > 20000:
    print("masked from byte %d of %d: more than the scanner's window" % (p, len(want)))
elif stars == 0:
    print("nothing masked: the crash tail holds bytes the scanner had not cleared")
else:
    print("ok")
EOF
)
expect_eq ok "$res" "the crashed recording has all output, its unscanned tail's tokens masked"
no_secret "the crashed recording" "$VT_TMP/c3"

# ---- at rest: ciphertext only --------------------------------------------------------------------
expect_eq "t" "$(psql_super "SELECT count(*) >= 3 AND bool_and(final) FROM recording_chunks
	WHERE session_id = '$S1'")" "the long session has 3+ chunks, all final"
expect_eq "t" "$(psql_super "SELECT bool_and(get_byte(envelope, 0) = 86) FROM recording_chunks")" \
	"every chunk is an envelope"
psql_super "CHECKPOINT" >/dev/null
PGPASSWORD="$(vt_secret PG_SUPERUSER_PASSWORD)" pg_dump -h "$VT_DATA/run" -U postgres \
	-d vaultterm -Fp -f "$VT_TMP/dump.sql"
for what in "$PWV" "$GH" "$FILL" "quick brown fox"; do
	if grep -raqF -- "$what" "$PG/base" "$PG/pg_wal" "$VT_TMP/dump.sql"; then
		fail "'${what:0:12}...' is in the cluster files or the dump in clear"
	else
		pass
	fi
done
grep -raqF "bob@rec.example" "$PG/base" && pass || fail "positive control: an e-mail in base/"
grep -qF "$FILL" "$VT_TMP/drv.err" "$VT_TMP/crash.err" && fail "the driver logged output" || pass

# ---- rotation ----------------------------------------------------------------------------------
NCHUNKS=$(psql_super "SELECT count(*) FROM recording_chunks")
if out=$(vt operator rotate-master --data-dir "$VT_DATA" --settle-ms 0 2>"$VT_TMP/rot.err"); then
	pass
	grep -q " $NCHUNKS recording chunks" <<<"$out" && pass ||
		fail "rotate-master does not report $NCHUNKS re-wrapped recording chunks: $out"
else
	fail "rotate-master: $(cat "$VT_TMP/rot.err")"
fi
expect_eq 0 "$(psql_super "SELECT count(*) FROM recording_chunks WHERE key_version < 2")" \
	"every chunk is under the new master key version"
expect_eq "2" "$(psql_super "SELECT DISTINCT get_byte(envelope, 8) FROM recording_chunks")" \
	"the envelope headers name the new version"
get_cast "$S1" "$A_JWT" "$VT_TMP/c1r"
expect_status 200 "the recording after rotation"
cmp -s "$VT_TMP/c1" "$VT_TMP/c1r" && pass || fail "the recording reads the same after rotation"

# ---- tampering: a moved or missing chunk does not open ------------------------------------------
psql_super "UPDATE recording_chunks SET envelope = (SELECT envelope FROM recording_chunks
	WHERE session_id = '$S1' AND seq = 0) WHERE session_id = '$S1' AND seq = 1" >/dev/null
get_cast "$S1" "$A_JWT" "$VT_TMP/x"
expect_status 500 "a chunk copied over another does not open"
psql_super "DELETE FROM recording_chunks WHERE session_id = '$S2' AND seq = 0" >/dev/null
expect_eq 0 "$(psql_super "SELECT count(*) FROM recording_chunks WHERE session_id = '$S2'")" \
	"(the short session had one chunk)"
psql_super "INSERT INTO recording_chunks (org_id, session_id, seq, final, key_version, envelope)
	SELECT org_id, '$S2', 1, true, key_version, envelope FROM recording_chunks
	WHERE session_id = '$S3' AND seq = 0" >/dev/null
get_cast "$S2" "$A_JWT" "$VT_TMP/x"
expect_status 500 "a recording missing chunk 0 (and one moved in) does not open"

finish
