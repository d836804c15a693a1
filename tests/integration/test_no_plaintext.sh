#!/usr/bin/env bash
# No secret value ever reaches disk or a log in plaintext. Secrets of all nine types are created,
# updated (every field a new value) and revealed, TOTP codes are generated; every field of every
# version carries its own random canary, valid for the field's format (a real Ed25519 key from
# ssh-keygen whose base64 body and public blob are searched too, a Luhn-valid card number, a
# base32 TOTP seed and an otpauth URI, ...). After CHECKPOINT the raw bytes of every file of the
# data dir (the cluster: base/, global/, pg_wal/, ...; postgres.log) and of the server's log are
# searched for every canary, and for its hex and base64 forms at every alignment (an encoding must
# not hide a leak): zero hits. So is a plain-format pg_dump (a backup). PostgreSQL logs every
# statement with its parameters during the test, so a value sent to the database in the clear
# would be caught in postgres.log; the server logs at debug level.
#
# The search is proven able to fail: metadata that is stored in plaintext by design (a secret's
# name and tags, the vault's name and description, the user's e-mail, a reveal's reason in the
# audit detail) must be found, in base/ and in pg_wal/ separately, in the dump, and in each log;
# the encoded patterns are checked against encodings made here. Fields whose values cannot be
# unique (cvv, expiry) are searched as the JSON fragment the sealed plaintext would contain.
# Rows stay small (no TOAST compression) and wal_compression must be off, or the bytes searched
# would not be the bytes written.
#
# Then `vaultterm operator rotate-master`: every secret_versions row is under master key version 2
# (column and envelope header), the data ciphertext of every envelope is unchanged and its wrapped
# DEK is new, reveal and TOTP still return the latest values, a write after the server has synced
# uses version 2, and the search is repeated: zero hits. Two versions (and another secret) with
# the same plaintext have entirely different envelopes (fresh DEK and nonces per version).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/totp.sh"

for t in ssh-keygen openssl base64 od pg_dump grep awk; do
	command -v "$t" >/dev/null || { echo "missing tool: $t (run scripts/deps.sh)" >&2; exit 1; }
done

PG="$VT_DATA/pg"
CANARIES="$VT_TMP/canaries.txt" # every canary, one a line
PATTERNS="$VT_TMP/patterns.txt" # the canaries and their encodings: what is searched for
: >"$CANARIES"

rnd() { openssl rand -hex "$1"; }
digits() { head -c "$1" /dev/urandom | od -An -tu1 -v | tr -s ' ' '\n' | grep . |
	awk '{printf "%d", $1 % 10}'; }

# canary VAR TAG: a fresh value "vtc_<TAG>_<20 hex>" in VAR (a valid variable name, one line of
# text, a DNS label), recorded for the search.
canary() {
	local v
	v="vtc_${2}_$(rnd 10)"
	printf -v "$1" '%s' "$v"
	printf '%s\n' "$v" >>"$CANARIES"
}
# record STRING: searched for as it is (a value that is not made by canary()).
record() { printf '%s\n' "$1" >>"$CANARIES"; }

# encodings STRING: the string, its hex in both cases, and its base64 (standard and URL-safe) at
# each of the three byte alignments, trimmed of the characters that depend on the bytes around it.
encodings() {
	local s=$1 a b64 drop
	printf '%s\n' "$s"
	[ "${#s}" -ge 16 ] || return 0 # too short for an encoding to be unique
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
		b64=${b64:drop:$((${#b64} - drop - 4))}
		printf '%s\n' "$b64" "$(tr '+/' '-_' <<<"$b64")"
	done
}

build_patterns() {
	local s
	: >"$PATTERNS"
	while IFS= read -r s; do encodings "$s" >>"$PATTERNS"; done <"$CANARIES"
	sort -u -o "$PATTERNS" "$PATTERNS"
}

# hits PATTERN_FILE PATH...: lines of the raw bytes under PATH that contain a pattern.
hits() {
	local pf=$1
	shift
	{ grep -a -F -r -D skip -s -c -f "$pf" "$@" || true; } | awk -F: '{s += $NF} END {print s + 0}'
}

# expect_no_canary WHAT PATH...: zero hits, or the failure names each file and match.
expect_no_canary() {
	local what=$1 n
	shift
	n=$(hits "$PATTERNS" "$@")
	if [ "$n" -eq 0 ]; then
		pass
	else
		fail "$what: $n lines contain a secret value (or its encoding):"
		{ grep -a -F -r -D skip -s -o -f "$PATTERNS" "$@" || true; } | cut -c1-240 | sort |
			uniq -c | head -n 30 >&2
	fi
}

# expect_found WHAT STRING PATH...: a positive control: STRING must occur under PATH.
expect_found() {
	local what=$1 s=$2 n
	shift 2
	printf '%s\n' "$s" >"$VT_TMP/one.txt"
	n=$(hits "$VT_TMP/one.txt" "$@")
	if [ "$n" -gt 0 ]; then
		pass
	else
		fail "positive control: $what ('$s') not found in $* — the search there proves nothing"
	fi
}

# ---- the search itself, proven on encodings made here ------------------------------------------
probe="vtc_probe_$(rnd 10)"
printf '%s\n' "$probe" >"$VT_TMP/probe.txt"
: >"$PATTERNS"
encodings "$probe" >"$PATTERNS"
mkdir "$VT_TMP/enc"
for a in 0 1 2 3 4 5; do
	{
		head -c "$a" /dev/urandom
		printf 'before %s after' "$probe"
		head -c 7 /dev/urandom
	} >"$VT_TMP/enc/raw$a"
	base64 -w0 <"$VT_TMP/enc/raw$a" >"$VT_TMP/enc/b64_$a"
	base64 -w0 <"$VT_TMP/enc/raw$a" | tr '+/' '-_' >"$VT_TMP/enc/b64url_$a"
	od -An -tx1 -v <"$VT_TMP/enc/raw$a" | tr -d ' \n' >"$VT_TMP/enc/hex_$a"
	od -An -tx1 -v <"$VT_TMP/enc/raw$a" | tr -d ' \n' | tr a-f A-F >"$VT_TMP/enc/HEX_$a"
done
for f in "$VT_TMP"/enc/*; do
	n=$(hits "$PATTERNS" "$f")
	[ "$n" -eq 1 ] && pass || fail "the search misses the probe in $(basename "$f")"
done
n=$(hits "$PATTERNS" "$VT_TMP/probe.txt")
[ "$n" -eq 1 ] && pass || fail "the search misses the probe as plain text"
rm -rf "$VT_TMP/enc" "$VT_TMP/probe.txt"

# ---- server, database logging, positive controls ---------------------------------------------------
vt_start LOG_LEVEL=debug
[ -d "$PG/base" ] && [ -d "$PG/global" ] && [ -d "$PG/pg_wal" ] && [ -f "$VT_DATA/postgres.log" ] &&
	pass || fail "unexpected data dir layout: $(ls "$VT_DATA" "$PG" 2>&1 | tr '\n' ' ')"
expect_eq off "$(psql_super "SHOW wal_compression")" "wal_compression (compressed WAL would hide bytes)"
psql_super "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
psql_super "ALTER SYSTEM SET log_parameter_max_length = -1" >/dev/null
psql_super "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
expect_eq all "$(psql_super "SHOW log_statement")" "postgres logs every statement"

POS_EMAIL="np-owner-$(rnd 6)@plaintext.example"
POS_VAULT="np-vault-name-$(rnd 8)"
POS_DESC="np-vault-description-$(rnd 8)"
POS_NAME="np-secret-name-$(rnd 8)"
POS_TAG="np-tag-$(rnd 8)"
POS_REASON="np-reveal-reason-$(rnd 8)"

TOKEN=$(register_user "$POS_EMAIL")
api POST /api/vault/vaults "$(jq -nc --arg n "$POS_VAULT" --arg d "$POS_DESC" \
	'{name:$n, description:$d}')" "$TOKEN"
expect_status 201 "create vault"
VAULT=$(jq -r .id <<<"$BODY")

# ---- fields of every type: FIELDS (JSON) for type $1, every value a new canary ---------------------
KEYS="$VT_TMP/keys"
mkdir "$KEYS"
NKEY=0
# new_ssh_key: an encrypted Ed25519 key; sets KEY_PRIV, KEY_PUB, KEY_PASS; records its passphrase,
# its public blob and its base64 body (each line, and the lines joined) for the search.
new_ssh_key() {
	local f="$KEYS/k$NKEY" body
	NKEY=$((NKEY + 1))
	canary KEY_PASS sshpass
	ssh-keygen -q -t ed25519 -N "$KEY_PASS" -C "np-key-$NKEY" -f "$f" </dev/null >/dev/null
	KEY_PRIV=$(cat "$f")
	KEY_PUB=$(cat "$f.pub")
	record "$(cut -d' ' -f2 "$f.pub")"
	body=$(sed '1d;$d' "$f")
	record "$(tr -d '\n' <<<"$body")"
	# The lines, less any that every key of this kind shares (none, for encrypted keys: the salt
	# starts in the first line); checked against the other keys when the patterns are built.
	sed '1d;$d' "$f" >>"$KEYS/lines"
}

luhn16() {
	local body d sum=0 i
	body="4$(digits 14)"
	for ((i = 14; i >= 0; i--)); do
		d=${body:i:1}
		if (((14 - i) % 2 == 0)); then
			d=$((d * 2))
			[ "$d" -gt 9 ] && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	printf '%s%d' "$body" $(((10 - sum % 10) % 10))
}

TOTP_SEED="" # the latest TOTP seed in base32
fields_for() {
	local a b c d e f g
	case $1 in
	PASSWORD)
		canary a pw
		canary b user
		canary c url
		canary d notes
		canary e ckey
		canary f cval
		FIELDS=$(jq -nc --arg a "p@ss-$a!" --arg b "$b" --arg c "https://$c.example.com/login" \
			--arg d "first line
$d
last line" --arg e "$e" --arg f "$f" \
			'{password:$a, username:$b, url:$c, notes:$d, custom:{($e):$f}}')
		;;
	API_KEY)
		canary a key
		canary b label
		canary c svc
		canary d notes
		FIELDS=$(jq -nc --arg a "sk_live_$a" --arg b "$b" --arg c "$c" --arg d "$d" \
			'{key:$a, label:$b, service:$c, notes:$d}')
		;;
	SSH_KEY)
		new_ssh_key
		FIELDS=$(jq -nc --arg a "$KEY_PRIV" --arg b "$KEY_PASS" --arg c "$KEY_PUB" \
			'{private_key:$a, passphrase:$b, public_key:$c}')
		;;
	ENV_VAR)
		canary a ENVNAME
		canary b envval
		FIELDS=$(jq -nc --arg a "$a" --arg b "$b" '{name:$a, value:$b}')
		;;
	SECURE_NOTE)
		canary a body
		canary b title
		FIELDS=$(jq -nc --arg a "Dear diary,
$a
-- end" --arg b "$b" '{body:$a, title:$b}')
		;;
	TOTP)
		local raw="$VT_TMP/seed.bin"
		head -c 20 /dev/urandom >"$raw"
		TOTP_SEED=$(base32 <"$raw" | tr -d '=\n')
		record "$TOTP_SEED"
		record "$(od -An -tx1 -v <"$raw" | tr -d ' \n')" # the raw seed, as a bytea would show
		canary a issuer
		canary b account
		if [ "${2:-1}" -eq 1 ]; then
			# version 1: a plain base32 seed, default parameters
			FIELDS=$(jq -nc --arg s "$TOTP_SEED" --arg a "$a" --arg b "$b" \
				'{seed:$s, issuer:$a, account:$b}')
		else
			# later versions: an otpauth URI (its label and issuer are values too)
			canary c uriissuer
			canary d urilabel
			FIELDS=$(jq -nc --arg s "otpauth://totp/$c:$d?secret=$TOTP_SEED&issuer=$c&algorithm=SHA1&digits=6&period=30" \
				--arg a "$a" --arg b "$b" \
				'{seed:$s, issuer:$a, account:$b, digits:6, period:30, algorithm:"SHA1"}')
		fi
		;;
	PAYMENT_CARD)
		a=$(luhn16)
		record "$a"
		canary b holder
		c="$(printf '%02d' $((1 + 10#$(digits 2) % 12)))/$((30 + 10#$(digits 1)))"
		d=$(digits 4)
		# Too short to be unique on their own: searched as the sealed JSON would spell them.
		record "\"expiry\":\"$c\""
		record "\"cvv\":\"$d\""
		canary e notes
		FIELDS=$(jq -nc --arg a "$a" --arg b "$b" --arg c "$c" --arg d "$d" --arg e "$e" \
			'{number:$a, cardholder:$b, expiry:$c, cvv:$d, notes:$e}')
		;;
	IDENTITY)
		canary a idname
		canary b street
		canary c mail
		d=$(digits 12)
		record "$d"
		canary e docno
		canary f notes
		FIELDS=$(jq -nc --arg a "$a" --arg b "1 Main Street
$b
Springfield" --arg c "$c@example.com" --arg d "+44 $d" --arg e "$e" --arg f "$f" \
			'{name:$a, address:$b, email:$c, phone:$d, document_number:$e, notes:$f}')
		;;
	PASSKEY)
		canary a rp
		canary b cred
		canary c pk
		canary d uh
		FIELDS=$(jq -nc --arg a "$a.example" --arg b "$b" --arg c "-----BEGIN PRIVATE KEY-----
$c
-----END PRIVATE KEY-----" --arg d "$d" '{rp_id:$a, credential_id:$b, private_key:$c, user_handle:$d}')
		;;
	esac
}

TYPES="PASSWORD API_KEY SSH_KEY ENV_VAR SECURE_NOTE TOTP PAYMENT_CARD IDENTITY PASSKEY"
declare -A SID LATEST

# reveal_check TYPE WHAT: reveals the secret and compares its fields with LATEST[TYPE].
reveal_check() {
	api POST "/api/vault/secrets/${SID[$1]}/reveal" "$(jq -nc --arg r "$POS_REASON" '{reason:$r}')" \
		"$TOKEN"
	expect_status 200 "$2: reveal $1"
	expect_eq "$(jq -S . <<<"${LATEST[$1]}")" "$(jq -S .fields <<<"$BODY" 2>/dev/null)" \
		"$2: $1 reveals its latest fields"
}

# totp_check WHAT: the server's code is the code of the latest seed.
totp_check() {
	local step code ok=0 s
	totp_settle
	api POST "/api/vault/secrets/${SID[TOTP]}/totp" "" "$TOKEN"
	expect_status 200 "$1: TOTP code"
	code=$(jq -r .code <<<"$BODY")
	step=$(totp_step)
	for s in $((step - 1)) "$step" $((step + 1)); do
		[ "$(totp "$TOTP_SEED" "$s")" = "$code" ] && ok=1
	done
	[ "$ok" = 1 ] && pass || fail "$1: TOTP code $code is not the latest seed's"
}

for t in $TYPES; do
	fields_for "$t" 1
	name="np-$t"
	[ "$t" = PASSWORD ] && name=$POS_NAME
	api POST "/api/vault/vaults/$VAULT/secrets" "$(jq -nc --arg t "$t" --arg n "$name" \
		--arg g "$POS_TAG" --argjson f "$FIELDS" '{type:$t, name:$n, fields:$f, tags:[$g]}')" \
		"$TOKEN"
	expect_status 201 "create $t"
	SID[$t]=$(jq -r .id <<<"$BODY")
	# v2: every field a new value
	fields_for "$t" 2
	api PUT "/api/vault/secrets/${SID[$t]}" "$(jq -nc --argjson f "$FIELDS" '{fields:$f, cas:1}')" \
		"$TOKEN"
	expect_status 200 "update $t"
	expect_jq '.version == 2' "update $t: version 2"
	LATEST[$t]=$FIELDS
	reveal_check "$t" "before rotation"
done
totp_check "before rotation"

# Metadata never carries a value.
api GET "/api/vault/vaults/$VAULT/secrets" "" "$TOKEN"
expect_status 200 "list secrets"
build_patterns
printf '%s' "$BODY" >"$VT_TMP/list.json"
expect_no_canary "the secret list" "$VT_TMP/list.json"
grep -qF "$POS_NAME" "$VT_TMP/list.json" && pass || fail "the list lacks the secret's name"

# ---- equal plaintext, different envelopes -------------------------------------------------------------
canary same_a same
SAME_FIELDS=$(jq -nc --arg k "$same_a" '{key:$k}')
api POST "/api/vault/vaults/$VAULT/secrets" "$(jq -nc --argjson f "$SAME_FIELDS" \
	'{type:"API_KEY", name:"np-same-1", fields:$f}')" "$TOKEN"
expect_status 201 "create same-1"
SAME1=$(jq -r .id <<<"$BODY")
api PUT "/api/vault/secrets/$SAME1" "$(jq -nc --argjson f "$SAME_FIELDS" '{fields:$f}')" "$TOKEN"
expect_status 200 "same-1 v2 with the same fields"
api POST "/api/vault/vaults/$VAULT/secrets" "$(jq -nc --argjson f "$SAME_FIELDS" \
	'{type:"API_KEY", name:"np-same-2", fields:$f}')" "$TOKEN"
expect_status 201 "create same-2 with the same fields"
SAME2=$(jq -r .id <<<"$BODY")
# v1 layout (docs/crypto.md): 1-based, wrapped DEK 10..69, data nonce 70..81, ciphertext+tag 86..
expect_eq "3|3|3|3|3|1" "$(psql_super "SELECT count(*), count(DISTINCT envelope),
	count(DISTINCT substring(envelope FROM 10 FOR 60)), count(DISTINCT substring(envelope FROM 70 FOR 12)),
	count(DISTINCT substring(envelope FROM 86)), count(DISTINCT length(envelope))
	FROM secret_versions WHERE secret_id IN ('$SAME1', '$SAME2')")" \
	"equal plaintexts: every envelope, wrapped DEK, nonce and ciphertext differs"

# ---- the search ---------------------------------------------------------------------------------
# Drop SSH body lines that two keys share (a constant header line would match the other key).
sort "$KEYS/lines" | uniq -u >>"$CANARIES"
n_canaries=$(wc -l <"$CANARIES")
[ "$n_canaries" -ge 80 ] && pass || fail "only $n_canaries canaries recorded"

# search_all WHAT: CHECKPOINT, pg_dump, then every file searched; the positive controls found.
search_all() {
	local what=$1 dump="$VT_TMP/dump-$2.sql"
	psql_super "CHECKPOINT" >/dev/null
	# A statement that fails is logged with its text: proves postgres.log is searched even if
	# log_statement were ignored.
	psql_super "SELECT 'np-pglog-$2'::int" >/dev/null 2>&1 || true
	PGPASSWORD="$(vt_secret PG_SUPERUSER_PASSWORD)" pg_dump -h "$VT_DATA/run" -U postgres \
		-d vaultterm -Fp -f "$dump"
	build_patterns
	expect_no_canary "$what: cluster files (base, global, pg_wal, ...)" "$PG"
	expect_no_canary "$what: postgres.log" "$VT_DATA/postgres.log"
	expect_no_canary "$what: the data dir (everything)" "$VT_DATA"
	expect_no_canary "$what: server log" "$VT_LOG"
	expect_no_canary "$what: pg_dump" "$dump"
	[ -f "$VT_TMP/rotate.log" ] && expect_no_canary "$what: rotate-master output" "$VT_TMP/rotate.log"
	# positive controls: plaintext by design, so the same search finds it
	expect_found "$what: secret name in base/" "$POS_NAME" "$PG/base"
	expect_found "$what: secret name in pg_wal/" "$POS_NAME" "$PG/pg_wal"
	expect_found "$what: vault name in base/" "$POS_VAULT" "$PG/base"
	expect_found "$what: vault description" "$POS_DESC" "$PG"
	expect_found "$what: secret tag" "$POS_TAG" "$PG/base"
	expect_found "$what: user e-mail" "$POS_EMAIL" "$PG/base"
	expect_found "$what: reveal reason (audit detail)" "$POS_REASON" "$PG/base"
	expect_found "$what: reveal reason in postgres.log" "$POS_REASON" "$VT_DATA/postgres.log"
	expect_found "$what: failed statement in postgres.log" "np-pglog-$2" "$VT_DATA/postgres.log"
	expect_found "$what: a secret id in the server log" "${SID[SSH_KEY]}" "$VT_LOG"
	expect_found "$what: secret name in pg_dump" "$POS_NAME" "$dump"
	expect_found "$what: reveal reason in pg_dump" "$POS_REASON" "$dump"
	# and the envelopes are in the dump, as hex
	expect_found "$what: envelopes in pg_dump" '\x5654454e01' "$dump"
}
search_all "after CHECKPOINT" 1

# ---- rotate-master ----------------------------------------------------------------------------------
SNAP="SELECT secret_id || ':' || version || ' ' || md5(substring(envelope FROM 70)) || ' '
	|| md5(substring(envelope FROM 6 FOR 64)) FROM secret_versions ORDER BY 1"
psql_super "$SNAP" >"$VT_TMP/before.txt"
expect_eq "1" "$(psql_super "SELECT string_agg(DISTINCT key_version::text, ',') FROM secret_versions")" \
	"before rotation: master key version 1"
if vt operator rotate-master --data-dir "$VT_DATA" --settle-ms 0 >"$VT_TMP/rotate.log" 2>&1; then
	pass
else
	fail "rotate-master: $(cat "$VT_TMP/rotate.log")"
fi
psql_super "$SNAP" >"$VT_TMP/after.txt"
nrows=$(wc -l <"$VT_TMP/before.txt")
[ "$nrows" -ge 21 ] && pass || fail "only $nrows secret versions"
expect_eq "$nrows" "$(LC_ALL=C join <(LC_ALL=C sort "$VT_TMP/before.txt") \
	<(LC_ALL=C sort "$VT_TMP/after.txt") | awk '$2 == $4 && $3 != $5' | wc -l)" \
	"rotation: every data ciphertext unchanged, every wrapped DEK new"
expect_eq "$nrows|0|0" "$(psql_super "SELECT count(*), count(*) FILTER (WHERE key_version <> 2),
	count(*) FILTER (WHERE substring(envelope FROM 6 FOR 4) <> '\\x00000002'::bytea)
	FROM secret_versions")" "after rotation: every version under master key 2 (column and header)"
for t in $TYPES; do
	reveal_check "$t" "after rotation"
done
totp_check "after rotation"
# The deployment-wide sealed keys are re-wrapped too (header and column); the restart at the end
# shows they still open.
expect_eq "2|\\x00000002" "$(psql_super "SELECT key_version, substring(sealed FROM 6 FOR 4)
	FROM broker_host_keys")" "after rotation: the broker host key is under master key 2"
expect_eq "2|\\x00000002" "$(psql_super "SELECT key_version, substring(sealed FROM 6 FOR 4)
	FROM audit_keys")" "after rotation: the audit signing root is under master key 2"

# A write once the server has synced (KEYS_SYNC_INTERVAL_MS) is sealed under version 2.
sleep 2.5
for t in SSH_KEY TOTP PAYMENT_CARD; do
	fields_for "$t" 3
	api PUT "/api/vault/secrets/${SID[$t]}" "$(jq -nc --argjson f "$FIELDS" '{fields:$f, cas:2}')" \
		"$TOKEN"
	expect_status 200 "after rotation: update $t"
	LATEST[$t]=$FIELDS
	reveal_check "$t" "after rotation, version 3"
done
totp_check "after rotation, version 3"
sort "$KEYS/lines" | uniq -u >>"$CANARIES"
sort -u -o "$CANARIES" "$CANARIES"
expect_eq "0|3" "$(psql_super "SELECT count(*) FILTER (WHERE key_version <> 2),
	count(*) FILTER (WHERE version = 3) FROM secret_versions")" \
	"after rotation: new versions under master key 2"

search_all "after rotate-master" 2

# A restart opens the re-wrapped broker host key (and audit signing root) under version 2.
vt_stop
vt_start
grep -q 'ssh broker listening on' "$VT_LOG" && pass ||
	fail "after rotation: the broker did not start with its re-wrapped host key"

finish
