#!/usr/bin/env bash
# `vaultterm vault` and `vaultterm secret` through the real CLI against a real server: --help on
# every subcommand, the exit codes, table and -format=json output, vault and user names resolved
# to ids (unknown and ambiguous names refused), grants seen by the grantee, secrets given as
# key=value, key=@file (a real OpenSSH Ed25519 key, plain and encrypted, revealed back byte for
# byte), key=- and JSON on stdin, updates with --cas, inject-only, TOTP codes checked against an
# independent RFC 6238 computation, and that no value given through a file or stdin reaches the
# server log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/totp.sh"

command -v ssh-keygen >/dev/null || { echo "missing tool: ssh-keygen (openssh-client)" >&2; exit 1; }

PW='correct horse battery staple'

# cli WANT_RC WHAT ARGS...: runs the CLI (stdin from $CLI_IN, else /dev/null); sets OUT, ERR, RC
# and checks the exit code.
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
out_lacks() { if grep -qF -- "$1" <<<"$OUT"; then fail "$2: stdout contains '$1'"; else pass; fi; }
err_has() { if grep -qE -- "$1" <<<"$ERR"; then pass; else fail "$2: /$1/ not in stderr: $ERR"; fi; }
err_lacks() { if grep -qF -- "$1" <<<"$ERR"; then fail "$2: stderr contains '$1'"; else pass; fi; }
out_jq() { if jq -e "$1" <<<"$OUT" >/dev/null 2>&1; then pass; else fail "$2: '$1' not true on: $OUT"; fi; }
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# --- help and usage errors (no server needed) --------------------------------------------------

cli 0 "top-level help" help
out_has '^  vault +vaults: ' "help lists vault"
out_has '^  secret +secrets: ' "help lists secret"
for c in vault secret; do
	cli 0 "$c --help" "$c" --help
	out_has "^usage: vaultterm $c <subcommand>" "$c --help prints its usage"
done
for s in ls create rm members grant revoke; do
	cli 0 "vault $s --help" vault "$s" --help
	out_has "^usage: vaultterm vault $s" "vault $s --help prints its own usage"
done
for s in put get ls reveal totp rm; do
	cli 0 "secret $s --help" secret "$s" -help
	out_has "^usage: vaultterm secret $s" "secret $s --help prints its own usage"
done
cli 0 "secret put --help" secret put --help
out_has 'visible to every local' "put --help warns that argv is visible"
out_has 'FIELD=@FILE' "put --help documents @file"
cli 0 "help with -format before the subcommand" secret -format=json reveal --help
out_has '^usage: vaultterm secret reveal' "reveal usage after -format"

cli 2 "vault without subcommand" vault
err_has '^usage: vaultterm vault' "vault without subcommand prints usage"
cli 2 "unknown vault subcommand" vault frob
err_has "unknown subcommand 'frob'" "unknown subcommand message"
cli 2 "unknown secret subcommand" secret frob
cli 2 "vault create without a name" vault create
err_has "missing arguments to 'create'" "missing argument message"
cli 2 "vault ls with an argument" vault ls extra
cli 2 "vault grant with two arguments" vault grant ops someone@example.com
cli 2 "vault revoke with one argument" vault revoke ops
cli 2 "vault ls with an unknown option" vault ls --description x
cli 2 "secret put without a name" secret put ops
cli 2 "secret put with a non-field argument" secret put ops db password
err_has "'password' is not FIELD=VALUE" "non-field message"
cli 2 "secret put with an empty field name" secret put ops db =x
cli 2 "secret put --json with fields" secret put ops db --json password=x
cli 2 "secret put --cas not a number" secret put ops db --cas two password=x
cli 2 "secret put --cas given twice" secret put ops db --cas 1 --cas 2 password=x
cli 2 "secret reveal without a secret" secret reveal
cli 2 "secret reveal with an unknown option" secret reveal ops/db --frob
cli 2 "secret get with neither id nor VAULT/NAME" secret get justaname
err_has "not a secret id or VAULT/NAME" "bad secret reference message"
cli 2 "secret -format=xml" secret ls ops -format=xml

# No token → 4; unreachable → 3 (before our server runs).
cli 4 "vault ls without a token" vault ls
err_has 'not logged in' "no-token message"
if (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; then echo "port 9 is open; cannot test exit 3" >&2; exit 1; fi
VAULTTERM_TOKEN=vt_nothing VAULTTERM_ADDR=http://127.0.0.1:9 cli 3 "vault ls against a closed port" vault ls
err_has 'cannot reach' "unreachable message"

vt_start

# --- users: the owner, bob (member of the org), carol (another org) -------------------------------

CLI_IN=$PW cli 0 "register owner" register --email owner@example.com --password-stdin
cli 0 "owner whoami" whoami -format=json
OWNER_ID=$(jq -r .user.id <<<"$OUT")
cli 0 "invite bob" org invite --email bob@example.com -format=json
BOB_INV=$(jq -r .invite_token <<<"$OUT")
B_DIR=$VT_TMP/cli-bob
CLI_IN=$BOB_INV$'\n'$PW VAULTTERM_CONFIG_DIR=$B_DIR cli 0 "bob accepts" org accept - --password-stdin
VAULTTERM_CONFIG_DIR=$B_DIR cli 0 "bob whoami" whoami -format=json
BOB_ID=$(jq -r .user.id <<<"$OUT")
C_DIR=$VT_TMP/cli-carol
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$C_DIR cli 0 "register carol (own org)" register --email carol@example.com --password-stdin
bob() { VAULTTERM_CONFIG_DIR=$B_DIR cli "$@"; }
carol() { VAULTTERM_CONFIG_DIR=$C_DIR cli "$@"; }

# --- vaults -------------------------------------------------------------------------------------------

cli 0 "vault create" vault create ops --description "Operations team"
out_has "^Created vault ops \($UUID_RE\)\.$" "vault create output"
OPS_ID=$(grep -oE "$UUID_RE" <<<"$OUT")
cli 0 "vault create (json)" vault create scratch -format=json
out_jq '.name == "scratch" and .role == "OWNER" and (.id | test("^[0-9a-f-]{36}$")) and (.created_at | type == "string") and has("updated_at") and has("description")' "vault create json"
SCRATCH_ID=$(jq -r .id <<<"$OUT")
cli 0 "vault create team" vault create team
cli 0 "vault create team/x (a name with a slash)" vault create team/x
cli 1 "vault names are unique in an org (409)" vault create team
err_has 'conflict, HTTP 409' "duplicate vault name"
cli 1 "vault create with an empty name (400)" vault create ""
err_has 'HTTP 400' "empty vault name refused by the server"

cli 0 "vault ls" vault ls
out_has '^ID +NAME +ROLE +DESCRIPTION +CREATED' "vault ls header"
out_has "^$OPS_ID +ops +OWNER +Operations team " "vault ls row"
cli 0 "vault ls (json)" vault ls -format=json
out_jq "(.items | length) == 4 and .next_cursor == null and any(.items[]; .id == \"$OPS_ID\" and .name == \"ops\" and .role == \"OWNER\" and .description == \"Operations team\")" "vault ls json"

cli 1 "an unknown vault name" vault members nosuch
err_has "no vault named 'nosuch'" "unknown vault message"
cli 0 "a vault name with a slash" vault members team/x -format=json
out_jq "(.items | length) == 1" "team/x resolves"
cli 1 "a vault id that does not exist (404)" vault members "$(cat /proc/sys/kernel/random/uuid)"
err_has 'not_found, HTTP 404' "unknown vault id"

cli 0 "vault members (name)" vault members ops
out_has '^USER ID +EMAIL +NAME +ROLE +SINCE' "members header"
out_has "^$OWNER_ID +owner@example.com .* OWNER " "members lists the owner"
cli 0 "vault members (id, json)" vault members "$OPS_ID" -format=json
out_jq "(.items | length) == 1 and .items[0].user_id == \"$OWNER_ID\" and .items[0].email == \"owner@example.com\" and .items[0].role == \"OWNER\"" "members json"

bob 0 "bob sees no vault yet" vault ls -format=json
out_jq '(.items | length) == 0' "bob has no vaults"
cli 0 "grant by e-mail (lower-case role)" vault grant ops Bob@Example.com viewer
out_has '^Bob@Example.com is now VIEWER of vault ops\.$' "grant output"
cli 0 "members after grant" vault members ops -format=json
out_jq "any(.items[]; .user_id == \"$BOB_ID\" and .email == \"bob@example.com\" and .role == \"VIEWER\")" "bob is a VIEWER"
bob 0 "bob sees ops" vault ls -format=json
out_jq "(.items | length) == 1 and .items[0].id == \"$OPS_ID\" and .items[0].role == \"VIEWER\"" "bob's view of ops"
cli 1 "grant to an e-mail outside the org" vault grant ops carol@example.com VIEWER
err_has 'not a member of this organization' "outsider message"
cli 1 "grant an unknown role (400)" vault grant ops bob@example.com KING
cli 1 "grant to an unknown user id" vault grant ops "$(cat /proc/sys/kernel/random/uuid)" VIEWER
cli 2 "grant to neither id nor e-mail" vault grant ops bob VIEWER
bob 1 "a VIEWER cannot grant (403)" vault grant ops bob@example.com OWNER
err_has 'forbidden, HTTP 403' "viewer grant refused"
carol 1 "another org cannot see ops by id (404)" vault members "$OPS_ID"
carol 1 "another org cannot resolve the name" vault members ops

# --- secret put: key=value, @file, -, custom, tags ------------------------------------------------

DBPW="db-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$DBPW" >"$VT_TMP/dbpw"
cli 0 "secret put (create)" secret put ops db --type password username=admin password=@"$VT_TMP/dbpw" url=https://db.example.com custom.region=eu custom.tier=gold --tag prod --tag db
out_has "^Created secret db \($UUID_RE\), version 1\.$" "secret put create output"
DB_ID=$(grep -oE "$UUID_RE" <<<"$OUT")
cli 0 "secret get VAULT/NAME" secret get ops/db
out_has '^Name +db$' "get name"
out_has "^Id +$DB_ID$" "get id"
out_has "^Vault id +$OPS_ID$" "get vault id"
out_has '^Type +PASSWORD$' "get type"
out_has '^Version +1$' "get version"
out_has '^Tags +prod,db$' "get tags"
out_has '^Inject-only +false$' "get inject-only"
out_lacks "$DBPW" "metadata has no value"
cli 0 "secret get id (json)" secret get "$DB_ID" -format=json
out_jq "(keys | sort) == ([\"id\",\"vault_id\",\"type\",\"name\",\"tags\",\"inject_only\",\"version\",\"created_at\",\"updated_at\",\"created_by\",\"updated_by\"] | sort)" "metadata has exactly the contract's keys"
out_jq ".id == \"$DB_ID\" and .vault_id == \"$OPS_ID\" and .version == 1 and .tags == [\"prod\",\"db\"] and .inject_only == false and .created_by == \"$OWNER_ID\"" "metadata json"
cli 0 "secret get by vault id/name" secret get "$OPS_ID/db" -format=json
out_jq ".id == \"$DB_ID\"" "VAULT_ID/NAME resolves"
cli 1 "secret get unknown name" secret get ops/nosuch
err_has "no secret 'ops/nosuch'" "unknown secret message"
cli 1 "secret get in an unknown vault" secret get nosuch/db
cli 1 "secret get unknown id (404)" secret get "$(cat /proc/sys/kernel/random/uuid)"

cli 0 "secret ls" secret ls ops
out_has '^ID +NAME +TYPE +VERSION +TAGS +INJECT-ONLY +UPDATED' "secret ls header"
out_has "^$DB_ID +db +PASSWORD +1 +prod,db +false " "secret ls row"
cli 0 "secret ls (json)" secret ls "$OPS_ID" -format=json
out_jq "(.items | length) == 1 and .items[0].id == \"$DB_ID\" and .next_cursor == null and (.items[0] | has(\"fields\") | not)" "secret ls json"

cli 0 "secret reveal (table)" secret reveal ops/db --reason "rotate the db password"
out_has '^FIELD +VALUE$' "reveal header"
out_has "^password +$DBPW$" "reveal shows the @file value"
out_has '^username +admin$' "reveal username"
out_has '^custom\.region +eu$' "reveal custom entries"
out_has '^custom\.tier +gold$' "reveal custom entries (2)"
cli 0 "secret reveal (json)" secret reveal "$DB_ID" -format=json
out_jq ".id == \"$DB_ID\" and .version == 1 and .type == \"PASSWORD\" and .fields.password == \"$DBPW\" and .fields.custom == {\"region\":\"eu\",\"tier\":\"gold\"} and .fields.url == \"https://db.example.com\"" "reveal json"
cli 0 "secret reveal --field" secret reveal ops/db --field password
expect_eq "$DBPW" "$OUT" "--field prints the value"
vt secret reveal ops/db --field password >"$VT_TMP/field.out" 2>/dev/null </dev/null
printf '%s\n' "$DBPW" >"$VT_TMP/field.want"
cmp -s "$VT_TMP/field.want" "$VT_TMP/field.out" && pass || fail "--field prints the raw value and one newline"
cli 0 "secret reveal --field custom.KEY" secret reveal ops/db --field custom.region
expect_eq eu "$OUT" "--field custom.region"
cli 0 "--field wins over -format=json" secret reveal ops/db --field username -format=json
expect_eq admin "$OUT" "--field with -format=json is raw"
cli 1 "secret reveal --field of a missing field" secret reveal ops/db --field nosuch
err_has "no field 'nosuch'" "missing field message"
bob 0 "a VIEWER can reveal" secret reveal ops/db --field password
expect_eq "$DBPW" "$OUT" "bob reveals the password"
bob 1 "a VIEWER cannot put (403)" secret put ops db password=x
err_has 'forbidden, HTTP 403' "viewer put refused"
bob 1 "a VIEWER cannot rm (403)" secret rm ops/db

# --- updates: key=-, --cas, --type ---------------------------------------------------------------

NEWPW="new-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
CLI_IN=$NEWPW cli 0 "secret put (update, value from stdin)" secret put ops db password=- username=admin
out_has "^Updated secret db \($DB_ID\), version 2\.$" "update output"
cli 0 "reveal after update" secret reveal ops/db -format=json
out_jq ".version == 2 and .fields.password == \"$NEWPW\" and (.fields | has(\"url\") | not)" "stdin value without its newline; the new version has only the new fields"
cli 0 "metadata after update" secret get ops/db -format=json
out_jq ".version == 2 and .tags == [\"prod\",\"db\"] and .updated_by == \"$OWNER_ID\"" "an update without --tag keeps the tags"
PW3="third-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$PW3" >"$VT_TMP/pw3"
cli 0 "secret put --cas (current)" secret put ops db --cas 2 password=@"$VT_TMP/pw3" --tag prod -format=json
out_jq '.version == 3 and .tags == ["prod"]' "--cas 2 → version 3, tags replaced"
cli 1 "secret put --cas (stale)" secret put ops db --cas 2 password=x
err_has 'version_mismatch, HTTP 409' "stale --cas message"
cli 0 "version unchanged after a stale --cas" secret get ops/db -format=json
out_jq '.version == 3' "still version 3"
cli 1 "secret put --cas 0 on an existing secret" secret put ops db --cas 0 password=x
cli 1 "secret put --type that does not match" secret put ops db --type API_KEY key=x
err_has "is a PASSWORD secret" "type mismatch message"
cli 0 "secret put --type that matches (case-insensitive)" secret put ops db --type Password password=@"$VT_TMP/pw3"
out_has 'version 4\.$' "matching --type updates"
cli 2 "create without --type" secret put ops newthing password=x
err_has 'give --type' "missing --type message"
cli 1 "create with --cas 5" secret put ops newthing --type PASSWORD --cas 5 password=x
cli 0 "create with --cas 0" secret put ops newthing --type PASSWORD --cas 0 password=x
cli 2 "one stdin field only" secret put ops db password=- notes=-
cli 2 "a field twice" secret put ops db password=a password=b
cli 3 "@file that does not exist" secret put ops db password=@"$VT_TMP/nope"
err_has 'cannot open' "missing file message"
printf 'a\0b' >"$VT_TMP/nul"
cli 2 "@file with a NUL byte" secret put ops db password=@"$VT_TMP/nul"
printf 'a\377b' >"$VT_TMP/latin1"
cli 2 "@file that is not UTF-8" secret put ops db password=@"$VT_TMP/latin1"
err_has 'not UTF-8 text' "not UTF-8 message"
cli 1 "a field the type does not have (400)" secret put ops db password=x colour=blue
err_has 'validation_failed, HTTP 400' "unknown field refused by the server"
cli 1 "a missing required field (400)" secret put ops db2 --type PASSWORD username=x

# --- JSON on stdin ------------------------------------------------------------------------------------

STRIPE="sk_live_$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
CLI_IN="{\"key\":\"$STRIPE\",\"service\":\"stripe\",\"label\":\"billing\"}" cli 0 "JSON on stdin" secret put ops stripe --type API_KEY
out_has '^Created secret stripe ' "JSON stdin create"
cli 0 "reveal the JSON secret" secret reveal ops/stripe -format=json
out_jq ".type == \"API_KEY\" and .fields == {\"key\":\"$STRIPE\",\"service\":\"stripe\",\"label\":\"billing\"}" "JSON stdin fields"
ENVVAL="env-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
CLI_IN="{\"name\":\"DATABASE_URL\",\"value\":\"$ENVVAL\"}" cli 0 "--json" secret put ops database-url --type env_var --json -format=json
out_jq '.type == "ENV_VAR" and .version == 1' "--json create"
CLI_IN="{\"key\": \"$STRIPE-broken" cli 2 "broken JSON on stdin" secret put ops stripe2 --type API_KEY
err_has 'not one JSON object' "broken JSON message"
err_lacks "$STRIPE" "the JSON error does not quote the input"
CLI_IN='["a"]' cli 2 "a JSON array on stdin" secret put ops stripe2 --type API_KEY
CLI_IN='{"key":"a","key":"b"}' cli 2 "duplicate keys in JSON" secret put ops stripe2 --type API_KEY
cli 2 "no fields and empty stdin" secret put ops stripe2 --type API_KEY
err_has 'no fields' "no fields message"

# --- SSH keys from files --------------------------------------------------------------------------

ssh-keygen -q -t ed25519 -N '' -C deploy@test -f "$VT_TMP/id_plain"
cli 0 "SSH key from @file" secret put ops deploy-key --type SSH_KEY private_key=@"$VT_TMP/id_plain" public_key=@"$VT_TMP/id_plain.pub"
vt secret reveal ops/deploy-key --field private_key >"$VT_TMP/revealed_key" 2>/dev/null </dev/null
cmp -s "$VT_TMP/id_plain" "$VT_TMP/revealed_key" && pass || fail "the revealed private key differs from the file"
chmod 600 "$VT_TMP/revealed_key"
expect_eq "$(cut -d' ' -f1,2 "$VT_TMP/id_plain.pub")" "$(ssh-keygen -y -f "$VT_TMP/revealed_key" | cut -d' ' -f1,2)" "the revealed key is the same key"
cli 0 "reveal the SSH key (table)" secret reveal ops/deploy-key
out_has '^private_key +-----BEGIN OPENSSH PRIVATE KEY-----$' "multi-line value starts after the field name"
out_has '^ +-----END OPENSSH PRIVATE KEY-----$' "multi-line value continues indented"
cli 0 "reveal the SSH key (json)" secret reveal ops/deploy-key -format=json
if [ "$(jq -r .fields.private_key <<<"$OUT")" = "$(cat "$VT_TMP/id_plain")" ]; then pass; else fail "json private_key"; fi

PASSPHRASE="pass-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')"
ssh-keygen -q -t ed25519 -N "$PASSPHRASE" -C enc@test -f "$VT_TMP/id_enc"
CLI_IN=$PASSPHRASE cli 0 "encrypted SSH key with passphrase=-" secret put ops enc-key --type SSH_KEY private_key=@"$VT_TMP/id_enc" passphrase=-
cli 0 "reveal the encrypted key" secret reveal ops/enc-key -format=json
out_jq ".fields.passphrase == \"$PASSPHRASE\"" "passphrase stored"
vt secret reveal ops/enc-key --field private_key >"$VT_TMP/revealed_enc" 2>/dev/null </dev/null
cmp -s "$VT_TMP/id_enc" "$VT_TMP/revealed_enc" && pass || fail "the revealed encrypted key differs from the file"
chmod 600 "$VT_TMP/revealed_enc"
expect_eq "$(cut -d' ' -f1,2 "$VT_TMP/id_enc.pub")" "$(ssh-keygen -y -P "$PASSPHRASE" -f "$VT_TMP/revealed_enc" | cut -d' ' -f1,2)" "the revealed encrypted key opens with the passphrase"
CLI_IN="wrong-passphrase" cli 1 "encrypted SSH key with a wrong passphrase (400)" secret put ops enc-bad --type SSH_KEY private_key=@"$VT_TMP/id_enc" passphrase=-
err_has 'validation_failed, HTTP 400' "wrong passphrase refused"
cli 1 "encrypted SSH key without a passphrase (400)" secret put ops enc-bad --type SSH_KEY private_key=@"$VT_TMP/id_enc"
cli 1 "not a private key (400)" secret put ops enc-bad --type SSH_KEY private_key=@"$VT_TMP/id_plain.pub"

# --- multi-line note, other types ---------------------------------------------------------------

NOTE_LINE="note-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
printf 'first line\n%s\nthird line\n' "$NOTE_LINE" >"$VT_TMP/note"
cli 0 "SECURE_NOTE from a file" secret put ops runbook --type SECURE_NOTE body=@"$VT_TMP/note" title=Runbook
cli 0 "reveal the note" secret reveal ops/runbook
out_has '^body +first line$' "note first line"
out_has "^ +$NOTE_LINE$" "note continuation line"
cli 0 "PAYMENT_CARD" secret put ops card --type PAYMENT_CARD number=4111111111111111 cardholder="A Person" expiry=12/30
cli 0 "IDENTITY" secret put ops me --type IDENTITY email=me@example.com
cli 0 "a secret name with a slash" secret put ops prod/api --type API_KEY key=abc
cli 0 "VAULT/NAME where NAME has a slash" secret get ops/prod/api -format=json
out_jq '.name == "prod/api"' "slash in the secret name"
# team/x/y could be team + "x/y" or team/x + "y": with both, it is ambiguous; with one, not.
cli 0 "team: secret x/y" secret put team x/y --type API_KEY key=one
cli 0 "team/x/y resolves while only team has x/y" secret reveal team/x/y --field key
expect_eq one "$OUT" "the one match"
cli 0 "team/x: secret y" secret put team/x y --type API_KEY key=two
cli 1 "team/x/y is now ambiguous" secret get team/x/y
err_has "names 2 secrets" "ambiguous VAULT/NAME message"
cli 0 "by id it is not" secret ls team/x -format=json
TEAMX_Y=$(jq -r '.items[0].id' <<<"$OUT")
cli 0 "reveal team/x's y by id" secret reveal "$TEAMX_Y" --field key
expect_eq two "$OUT" "the id picks the secret"

# --- TOTP ------------------------------------------------------------------------------------------

SEED=$(head -c 20 /dev/urandom | base32 | tr -d '=')
CLI_IN=$SEED cli 0 "TOTP secret (seed from stdin, digits/period as integers)" secret put ops github-mfa --type totp seed=- issuer=GitHub account=owner digits=6 period=30
cli 0 "TOTP fields" secret reveal ops/github-mfa -format=json
out_jq ".fields.seed == \"$SEED\" and .fields.digits == 6 and .fields.period == 30" "digits and period are JSON integers"
totp_settle
cli 0 "secret totp" secret totp ops/github-mfa
expect_eq "$(totp "$SEED" "$(totp_step)")" "$OUT" "secret totp matches an independent RFC 6238 computation"
cli 0 "secret totp (json)" secret totp ops/github-mfa -format=json
out_jq "(.code == \"$(totp "$SEED" "$(totp_step)")\") and .digits == 6 and .period == 30 and .remaining_seconds >= 1 and .remaining_seconds <= 30" "totp json"
URI_SEED=$(head -c 20 /dev/urandom | base32 | tr -d '=')
CLI_IN="{\"seed\":\"otpauth://totp/Example:owner?secret=$URI_SEED&issuer=Example\"}" cli 0 "TOTP from an otpauth URI (JSON stdin)" secret put ops uri-mfa --type TOTP
totp_settle
cli 0 "secret totp (otpauth URI)" secret totp ops/uri-mfa
expect_eq "$(totp "$URI_SEED" "$(totp_step)")" "$OUT" "otpauth URI seed gives the right code"
cli 2 "TOTP digits not a number" secret put ops bad-mfa --type TOTP seed=JBSWY3DPEHPK3PXP digits=six
cli 1 "TOTP seed that is not base32 (400)" secret put ops bad-mfa --type TOTP seed=not-base32!
cli 1 "secret totp on a PASSWORD secret" secret totp ops/db

# --- inject-only ------------------------------------------------------------------------------------

CITOKEN="ci-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$CITOKEN" >"$VT_TMP/ci"
cli 0 "inject-only secret" secret put ops ci-token --type API_KEY key=@"$VT_TMP/ci" --inject-only -format=json
out_jq '.inject_only == true' "inject_only in the metadata"
cli 1 "reveal an inject-only secret (403)" secret reveal ops/ci-token
err_has 'forbidden, HTTP 403' "inject-only reveal refused"
out_lacks "$CITOKEN" "nothing revealed"
cli 1 "reveal --field of an inject-only secret (403)" secret reveal ops/ci-token --field key
expect_eq "" "$OUT" "no value printed"
CITOKEN2="ci2-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$CITOKEN2" >"$VT_TMP/ci2"
cli 0 "update an inject-only secret" secret put ops ci-token key=@"$VT_TMP/ci2" -format=json
out_jq '.inject_only == true and .version == 2' "an update keeps it inject-only"
cli 1 "still not revealable" secret reveal ops/ci-token

# --- audit ------------------------------------------------------------------------------------------

cli 0 "audit of reveals" audit ls --limit 500 -format=json
out_jq "any(.items[]; .action == \"SECRET_REVEALED\" and .resource.id == \"$DB_ID\")" "reveal is audited"
for s in "$DBPW" "$NEWPW" "$PW3" "$STRIPE" "$ENVVAL" "$PASSPHRASE" "$NOTE_LINE" "$SEED" "$URI_SEED" "$CITOKEN" "$CITOKEN2"; do
	out_lacks "$s" "the audit trail holds no secret value"
done

# --- lists longer than one page (500): the CLI follows next_cursor ---------------------------------

cli 0 "vault create big" vault create big -format=json
BIG_ID=$(jq -r .id <<<"$OUT")
OWNER_JWT=$(head -n1 "$VAULTTERM_CONFIG_DIR/token")
for i in $(seq 1 501); do
	api POST "/api/vault/vaults/$BIG_ID/secrets" "{\"type\":\"ENV_VAR\",\"name\":\"s$i\",\"fields\":{\"name\":\"N\",\"value\":\"v\"}}" "$OWNER_JWT"
	[ "$STATUS" = 201 ] || { fail "creating secret s$i: $STATUS $BODY"; break; }
done
api GET "/api/vault/vaults/$BIG_ID/secrets?limit=500" "" "$OWNER_JWT"
expect_jq '(.items | length) == 500 and (.next_cursor | type == "string")' "the server pages at 500"
cli 0 "secret ls over two pages" secret ls big -format=json
out_jq '(.items | length) == 501 and ([.items[].id] | unique | length) == 501' "all 501 secrets, each once"
cli 0 "a name on the second page resolves" secret get big/s501 -format=json
out_jq '.name == "s501"' "big/s501"
cli 0 "vault rm big" vault rm big

# --- rm -----------------------------------------------------------------------------------------------

cli 0 "secret rm VAULT/NAME" secret rm ops/stripe
out_has '^Secret deleted\.$' "secret rm output"
cli 1 "the deleted secret is gone" secret get ops/stripe
cli 0 "secret rm by id (json)" secret rm "$DB_ID" -format=json
out_jq ".secret_id == \"$DB_ID\" and .deleted == true" "secret rm json"
cli 1 "reveal a deleted secret (404)" secret reveal "$DB_ID"
err_has 'not_found, HTTP 404' "deleted secret is 404"

cli 0 "metadata of a secret in ops" secret get ops/runbook -format=json
RUNBOOK_ID=$(jq -r .id <<<"$OUT")
bob 0 "bob (VIEWER) reveals the runbook by id" secret reveal "$RUNBOOK_ID" --field title
expect_eq Runbook "$OUT" "bob reads the title"
cli 0 "vault revoke by e-mail" vault revoke ops bob@example.com
out_has '^bob@example.com removed from vault ops\.$' "revoke output"
bob 0 "bob no longer sees ops" vault ls -format=json
out_jq '(.items | length) == 0' "bob's vault list is empty"
bob 1 "bob cannot reveal any more (by id: 404)" secret reveal "$RUNBOOK_ID"
err_has 'not_found, HTTP 404' "a revoked member gets 404"
cli 0 "grant by user id (json)" vault grant "$OPS_ID" "$BOB_ID" EDITOR -format=json
out_jq ".vault_id == \"$OPS_ID\" and .user_id == \"$BOB_ID\" and .role == \"EDITOR\"" "grant json"
bob 0 "an EDITOR can put" secret put ops bobs --type SECURE_NOTE body=hello
cli 0 "vault revoke by id (json)" vault revoke "$OPS_ID" "$BOB_ID" -format=json
out_jq ".vault_id == \"$OPS_ID\" and .user_id == \"$BOB_ID\" and .removed == true" "revoke json"

cli 0 "vault rm by name" vault rm ops
out_has '^Vault deleted\.$' "vault rm output"
cli 1 "the vault's secrets are gone (404)" secret get "$RUNBOOK_ID"
cli 1 "the vault is gone" vault members ops
cli 0 "vault rm by id (json)" vault rm "$SCRATCH_ID" -format=json
out_jq ".vault_id == \"$SCRATCH_ID\" and .deleted == true" "vault rm json"
cli 0 "vault ls after rm" vault ls -format=json
out_jq '(.items | length) == 2 and ([.items[].name] | sort) == ["team","team/x"]' "only team and team/x are left"

# --- no value given through a file or stdin reaches the server log ----------------------------------

for s in "$DBPW" "$NEWPW" "$PW3" "$STRIPE" "$ENVVAL" "$PASSPHRASE" "$NOTE_LINE" "$SEED" "$URI_SEED" "$CITOKEN" "$CITOKEN2" \
	"$(sed -n 2p "$VT_TMP/id_plain")" "$(sed -n 2p "$VT_TMP/id_enc")"; do
	if grep -qF -- "$s" "$VT_LOG"; then fail "a secret value appears in the server log"; else pass; fi
done

finish
