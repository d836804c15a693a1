#!/usr/bin/env bash
# /api/ssh (keys, profiles, tickets, broker) and the org's recording switch, through the real API
# and the database behind it (docs/broker.md "Profiles, keys and tickets"):
#  - login keys: Ed25519/ECDSA/RSA from ssh-keygen accepted with the fingerprint `ssh-keygen -lf`
#    prints and the line normalized; RSA 1024, DSA, a certificate, a private key, garbage refused
#    with a field message; duplicates 409; 50 per user; own keys only (another member's or another
#    org's id is 404); the same key in two orgs; API tokens have none; vt_ssh_key_lookup finds a
#    member's key and forgets it when they leave the org;
#  - profiles: admins/owners (admin-scope tokens) create, change, delete; members and ssh:connect
#    tokens read; every field validated; the credential must be an SSH_KEY or PASSWORD secret the
#    writer can read (the same answer for another org's secret, an unknown one, and one in a vault
#    the writer cannot read); host keys normalized from known_hosts lines, unpinned with "";
#    paging; another org's ids are 404;
#  - tickets: vtt_ + 43 base64url characters, 60 s, only their SHA-256 stored (never in the audit
#    trail or the server log), consumed once by vt_ssh_ticket_consume and not after expiry; users
#    with read access to the credential, tokens with ssh:connect (and vault:read); another org's
#    profile is 404;
#  - GET /api/ssh/broker: the running broker's address and host key (503 when none runs);
#  - PATCH /api/orgs/current {recording_enabled}: admins and owners, audited ORG_UPDATED;
#  - every write has its audit row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

for t in ssh-keygen sha256sum; do
	command -v "$t" >/dev/null || { echo "missing tool: $t (run scripts/deps.sh)" >&2; exit 1; }
done

vt_start

KEYS="$VT_TMP/keys"
mkdir -p "$KEYS"
# mkkey NAME ARGS...: an ssh-keygen key pair $KEYS/NAME(.pub).
mkkey() {
	local n=$1
	shift
	ssh-keygen -q "$@" -N '' -C "test-$n" -f "$KEYS/$n" </dev/null >/dev/null
}
# fp FILE: the fingerprint ssh-keygen prints.
fp() { ssh-keygen -lf "$1" | awk '{print $2}'; }
# addkey NAME FILE JWT: POST /api/ssh/keys.
addkey() {
	api POST /api/ssh/keys "$(jq -nc --arg n "$1" --rawfile k "$2" '{name:$n,public_key:$k}')" "$3"
}
# expect_audit N JWT ACTION RESOURCE_ID WHAT: N rows with that action and resource (in AUDIT).
expect_audit() {
	audit_all "$2" "action=$3&resource=$4"
	expect_eq "$1" "$(jq length <<<"$AUDIT")" "$5"
}

# ---- people, tokens, vaults and secrets --------------------------------------------------------
reg alice@ssh.example
ALICE=$REG_TOKEN ALICE_ID=$REG_USER A_ORG=$REG_ORG
join "$ALICE" carol@ssh.example member
CAROL=$JOIN_TOKEN CAROL_ID=$JOIN_USER
join "$ALICE" dave@ssh.example admin
DAVE=$JOIN_TOKEN
reg bob@ssh.example
BOB=$REG_TOKEN B_ORG=$REG_ORG

mktoken "$ALICE" a-admin '["admin","vault:read"]'
ADMIN_TOK=$TOK
mktoken "$ALICE" a-admin-blind '["admin"]'
ADMIN_BLIND_TOK=$TOK
mktoken "$ALICE" a-connect '["ssh:connect","vault:read"]'
CONNECT_TOK=$TOK CONNECT_TOK_ID=$TOK_ID
mktoken "$ALICE" a-connect-blind '["ssh:connect"]'
CONNECT_BLIND_TOK=$TOK
mktoken "$ALICE" a-reader '["vault:read"]'
READ_TOK=$TOK

mkkey target -t ed25519
mkvault "$ALICE" prod
A_VAULT=$VAULT_ID
mksecret "$ALICE" "$A_VAULT" "$(jq -nc --rawfile k "$KEYS/target" \
	'{type:"SSH_KEY",name:"deploy-key",fields:{private_key:$k}}')"
SSH_SECRET=$SECRET_ID
mksecret "$ALICE" "$A_VAULT" '{"type":"PASSWORD","name":"root-pw","inject_only":true,"fields":{"password":"p4ss-for-the-target"}}'
PW_SECRET=$SECRET_ID
mksecret "$ALICE" "$A_VAULT" '{"type":"API_KEY","name":"api","fields":{"key":"k-123456789"}}'
API_SECRET=$SECRET_ID
mkvault "$BOB" b-prod
mksecret "$BOB" "$VAULT_ID" '{"type":"PASSWORD","name":"b-pw","fields":{"password":"b-password-1"}}'
B_SECRET=$SECRET_ID

# ---- login keys -------------------------------------------------------------------------------
mkkey ed -t ed25519
mkkey ec256 -t ecdsa -b 256
mkkey ec521 -t ecdsa -b 521
mkkey rsa -t rsa -b 2048
mkkey rsa1k -t rsa -b 1024
for k in ed ec256 ec521 rsa; do
	addkey "laptop-$k" "$KEYS/$k.pub" "$ALICE"
	expect_status 201 "alice adds her $k key"
	expect_eq "$(fp "$KEYS/$k.pub")" "$(jq -r .fingerprint <<<"$BODY")" "$k: fingerprint as ssh-keygen -lf"
	expect_eq "$(awk '{print $1" "$2}' "$KEYS/$k.pub")" "$(jq -r .public_key <<<"$BODY")" \
		"$k: stored line is '<type> <base64>' without the comment"
	expect_eq "$(awk '{print $1}' "$KEYS/$k.pub")" "$(jq -r .type <<<"$BODY")" "$k: type"
	expect_jq '.last_used_at == null and (.id | test("^[0-9a-f-]{36}$"))' "$k: fresh key"
	eval "KEY_${k}=\$(jq -r .id <<<\"\$BODY\")"
done
# shellcheck disable=SC2154 # set by the eval above
ED_KEY=$KEY_ed
expect_audit 1 "$ALICE" SSH_KEY_ADDED "$ED_KEY" "SSH_KEY_ADDED audited"
expect_eq "$(fp "$KEYS/ed.pub")" "$(jq -r '.[0].detail.fingerprint' <<<"$AUDIT")" "audit detail has the fingerprint"

addkey again "$KEYS/ed.pub" "$ALICE"
expect_status 409 "the same key twice in one org"
addkey again "$KEYS/ed.pub" "$CAROL"
expect_status 409 "another member registering alice's key"
addkey shortrsa "$KEYS/rsa1k.pub" "$ALICE"
expect_status 400 "RSA 1024 refused"
expect_code validation_failed "RSA 1024"
expect_jq '.error.message | test("public_key") and test("2048")' "RSA 1024: says why"
printf '%s\n' 'ssh-dss AAAAB3NzaC1kc3MAAACBANLMp0M8kmMkxUbm8iR825aCwTQzYNUCX8xfp2n0D0JQ478xRYB5Qw1rVO+gHUOVPBX9Nmztgm096kSERx4bTkV/OvnWyJNp2LqgtIyoSbXjPwvdSadyEoFDcv+P+RX884bgtM1sA2B2oRPlLIrCVXyLvgRk9lW2lEJItH1B4iyp' >"$KEYS/dsa.pub"
addkey dsa "$KEYS/dsa.pub" "$ALICE"
expect_status 400 "DSA refused"
expect_jq '.error.message | test("obsolete")' "DSA: says why"
mkkey ca -t ed25519
ssh-keygen -q -s "$KEYS/ca" -I cert -n alice "$KEYS/ec256.pub" >/dev/null 2>&1
addkey cert "$KEYS/ec256-cert.pub" "$ALICE"
expect_status 400 "a certificate refused"
expect_jq '.error.message | test("certificates")' "certificate: says why"
addkey oops "$KEYS/target" "$ALICE"
expect_status 400 "a private key refused"
expect_jq '.error.message | test("private key")' "private key: says so"
absent "private key refusal" "$(sed -n 2p "$KEYS/target")"
api POST /api/ssh/keys '{"name":"x","public_key":"ssh-ed25519 AAAA garbage"}' "$ALICE"
expect_status 400 "garbage base64"
api POST /api/ssh/keys '{"name":"x","public_key":"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAAABHNzaDo="}' "$ALICE"
expect_status 400 "security-key key refused"
expect_jq '.error.message | test("security-key")' "sk: says why"
api POST /api/ssh/keys '{"name":"x"}' "$ALICE"
expect_status 400 "no public_key"
expect_code validation_failed "no public_key"
api POST /api/ssh/keys '{"name":"x","public_key":"a","extra":1}' "$ALICE"
expect_status 400 "unknown field"
api POST /api/ssh/keys '{"name":' "$ALICE"
expect_status 400 "malformed JSON"
expect_code invalid_request "malformed JSON"
api POST /api/ssh/keys "$(jq -nc --rawfile k "$KEYS/ed.pub" '{name:"",public_key:$k}')" "$ALICE"
expect_status 400 "empty name"
api POST /api/ssh/keys "$(jq -nc --rawfile k "$KEYS/ed.pub" '{name:"t",public_key:$k}')" "$CONNECT_TOK"
expect_status 403 "an API token has no login keys"
api GET /api/ssh/keys "" "$CONNECT_TOK"
expect_status 403 "an API token lists no login keys"
api POST /api/ssh/keys "$(jq -nc --rawfile k "$KEYS/ed.pub" '{name:"t",public_key:$k}')"
expect_status 401 "no bearer"

# Carol's own key; lists are per user.
mkkey carol -t ed25519
addkey carol-laptop "$KEYS/carol.pub" "$CAROL"
expect_status 201 "carol adds a key"
CAROL_KEY=$(jq -r .id <<<"$BODY")
api GET /api/ssh/keys "" "$ALICE"
expect_status 200 "alice lists her keys"
expect_jq '(.items | length) == 4 and all(.items[]; .name | startswith("laptop-")) and .next_cursor == null' \
	"alice sees her 4 keys only"
api DELETE "/api/ssh/keys/$CAROL_KEY" "" "$ALICE"
expect_status 404 "alice deletes carol's key: 404 (not her key)"
api DELETE "/api/ssh/keys/$ED_KEY" "" "$BOB"
expect_status 404 "bob (org B) deletes alice's key: 404"
api DELETE "/api/ssh/keys/not-a-uuid" "" "$ALICE"
expect_status 400 "malformed key id"
# The same public key may be registered in another org (by that org's user).
addkey bob-copy "$KEYS/ed.pub" "$BOB"
expect_status 201 "bob registers the same key in org B"

# The broker's lookup (vt_ssh_key_lookup, the app role): the key's (org, user) pairs.
ED_FP=$(fp "$KEYS/ed.pub")
expect_eq 2 "$(psql_app "SELECT count(*) FROM vt_ssh_key_lookup('$ED_FP')")" "key lookup: two orgs"
expect_eq "$A_ORG|$ALICE_ID|alice@ssh.example" \
	"$(psql_app "SELECT org_id, user_id, email FROM vt_ssh_key_lookup('$ED_FP') WHERE org_id = '$A_ORG'")" \
	"key lookup: org A's row names alice"
CAROL_FP=$(fp "$KEYS/carol.pub")
expect_eq 1 "$(psql_app "SELECT count(*) FROM vt_ssh_key_lookup('$CAROL_FP')")" "carol's key found"
# The stored row: normalized line, the fingerprint, in org A.
expect_eq "$(awk '{print $1" "$2}' "$KEYS/carol.pub")|$CAROL_FP|$A_ORG" \
	"$(psql_super "SELECT public_key, fingerprint, org_id FROM ssh_keys WHERE id = '$CAROL_KEY'")" \
	"carol's stored key row"

api DELETE "/api/ssh/keys/$ED_KEY" "" "$ALICE"
expect_status 204 "alice deletes her ed25519 key"
api DELETE "/api/ssh/keys/$ED_KEY" "" "$ALICE"
expect_status 404 "and again: 404"
expect_audit 1 "$ALICE" SSH_KEY_DELETED "$ED_KEY" "SSH_KEY_DELETED audited"
expect_eq 1 "$(psql_app "SELECT count(*) FROM vt_ssh_key_lookup('$ED_FP')")" "key lookup: org B's only now"

# 50 keys per user in an org: carol has 1; 49 more fit, the 51st does not.
for i in $(seq 1 50); do
	mkkey "c$i" -t ed25519
	addkey "c$i" "$KEYS/c$i.pub" "$CAROL"
	if [ "$i" -le 49 ]; then
		[ "$STATUS" = 201 ] || fail "carol's key $i: HTTP $STATUS: $BODY"
	fi
done
expect_status 400 "the 51st key"
expect_jq '.error.message | test("50")' "the limit is named"

# ---- profiles -----------------------------------------------------------------------------------
mkkey hostkey -t ed25519
HOSTKEY_LINE=$(awk '{print $1" "$2}' "$KEYS/hostkey.pub")
HOSTKEY_FP=$(fp "$KEYS/hostkey.pub")
# profile NAME JWT [EXTRA_JQ]: POST /api/ssh/profiles with the SSH_KEY secret.
profile() {
	api POST /api/ssh/profiles "$(jq -nc --arg n "$1" --arg c "$SSH_SECRET" \
		"{name:\$n,host:\"db.internal\",username:\"deploy\",credential_secret_id:\$c} ${3:-}")" "$2"
}
profile prod-db "$ALICE" "+ {port: 2222, host_key: \"db.internal,10.0.0.5 $HOSTKEY_LINE comment\"}"
expect_status 201 "alice creates prod-db with a pinned host key"
PROD=$(jq -r .id <<<"$BODY")
expect_jq '.name == "prod-db" and .host == "db.internal" and .port == 2222 and .username == "deploy"' \
	"prod-db fields"
expect_eq "$HOSTKEY_LINE" "$(jq -r .host_key <<<"$BODY")" "host key normalized from a known_hosts line"
expect_eq "$HOSTKEY_FP" "$(jq -r .host_key_fingerprint <<<"$BODY")" "host key fingerprint"
expect_jq '.host_key_pinned_at != null and .credential_secret_id != null' "pinned now"
expect_audit 1 "$ALICE" SSH_PROFILE_CREATED "$PROD" "SSH_PROFILE_CREATED audited"
expect_eq "$HOSTKEY_FP" "$(jq -r '.[0].detail.host_key_fingerprint' <<<"$AUDIT")" "audit: host key fingerprint"
profile web "$DAVE" "+ {credential_secret_id: \"$PW_SECRET\"}"
expect_status 201 "dave (admin) creates web with an inject-only PASSWORD"
WEB=$(jq -r .id <<<"$BODY")
expect_jq '.host_key == null and .host_key_pinned_at == null and .port == 22' "web: trust on first use, port 22"
profile ci "$ADMIN_TOK"
expect_status 201 "an admin token with vault:read creates a profile"
CI=$(jq -r .id <<<"$BODY")
expect_jq '.created_by == null' "a token's profile has no creating user"

profile nope "$CAROL"
expect_status 403 "carol (member) cannot create a profile"
expect_code forbidden "member create"
profile nope "$CONNECT_TOK"
expect_status 403 "an ssh:connect token cannot create a profile"
profile prod-db "$ALICE"
expect_status 409 "duplicate name"
# The credential: unknown, another org's, a vault the writer cannot read: one answer.
profile nope "$ALICE" "+ {credential_secret_id: \"$(uuid_rand)\"}"
expect_status 400 "unknown credential"
UNKNOWN_MSG=$(jq -r .error.message <<<"$BODY")
profile nope "$ALICE" "+ {credential_secret_id: \"$B_SECRET\"}"
expect_status 400 "org B's secret as credential"
expect_eq "$UNKNOWN_MSG" "$(jq -r .error.message <<<"$BODY")" "another org's secret: same message as an unknown one"
profile nope "$ADMIN_BLIND_TOK"
expect_status 400 "an admin token without vault:read cannot use a secret it cannot read"
expect_eq "$UNKNOWN_MSG" "$(jq -r .error.message <<<"$BODY")" "unreadable secret: same message"
expect_jq '.error.message | test("credential_secret_id")' "names the field"
profile nope "$ALICE" "+ {credential_secret_id: \"$API_SECRET\"}"
expect_status 400 "an API_KEY secret is not a credential"
expect_jq '.error.message | test("SSH_KEY or PASSWORD") and test("API_KEY")' "says which types"
profile nope "$ALICE" '+ {credential_secret_id: "not-a-uuid"}'
expect_status 400 "credential not a uuid"
# Field checks.
for bad in '{name:"-x"}' '{name:"a b"}' '{name:"x/y"}' "{name:\"$(printf 'a%.0s' $(seq 1 65))\"}" \
	'{host:"-oProxyCommand=x"}' '{host:"a..b"}' '{host:"a b"}' '{host:"fe80::1::2"}' \
	'{port:0}' '{port:65536}' '{port:"22"}' '{username:"a b"}' '{username:"-l"}' \
	'{username:""}' '{host_key:"ssh-rsa AAAA"}' '{extra:1}'; do
	profile nope "$ALICE" "+ $bad"
	expect_status 400 "profile with $bad"
	expect_code validation_failed "profile with $bad"
done
profile v6 "$ALICE" '+ {host:"2001:db8::5"}'
expect_status 201 "an IPv6 literal host"
V6=$(jq -r .id <<<"$BODY")
mkkey hk1k -t rsa -b 1024
profile nope "$ALICE" "+ {host_key: \"$(cat "$KEYS/hk1k.pub")\"}"
expect_status 400 "RSA 1024 host key"
expect_jq '.error.message | test("host_key") and test("2048")' "host key: says why"
api POST /api/ssh/profiles '{"name":"x"' "$ALICE"
expect_status 400 "malformed JSON"

# Reading: members and ssh:connect/admin tokens; paging by name.
for who in "$CAROL" "$CONNECT_TOK" "$ADMIN_BLIND_TOK"; do
	api GET /api/ssh/profiles "" "$who"
	expect_status 200 "list profiles"
	expect_jq '[.items[].name] == ["ci","prod-db","v6","web"]' "four profiles, by name"
done
api GET /api/ssh/profiles "" "$READ_TOK"
expect_status 403 "a vault:read token does not read profiles"
api GET "/api/ssh/profiles?limit=2" "" "$CAROL"
expect_jq '[.items[].name] == ["ci","prod-db"] and .next_cursor == "prod-db"' "page 1"
api GET "/api/ssh/profiles?limit=2&cursor=prod-db" "" "$CAROL"
expect_jq '[.items[].name] == ["v6","web"] and .next_cursor == null' "page 2"
api GET "/api/ssh/profiles?limit=0" "" "$CAROL"
expect_status 400 "limit 0"
api GET "/api/ssh/profiles?cursor=%20bad" "" "$CAROL"
expect_status 400 "bad cursor"
api GET "/api/ssh/profiles/$PROD" "" "$CAROL"
expect_status 200 "carol reads prod-db"
expect_eq "$HOSTKEY_LINE" "$(jq -r .host_key <<<"$BODY")" "get: host key"
api GET /api/ssh/profiles "" "$BOB"
expect_jq '.items == []' "bob sees none of A's profiles"
for m in GET PATCH DELETE; do
	api "$m" "/api/ssh/profiles/$PROD" "$([ $m = PATCH ] && echo '{"port":22}')" "$BOB"
	expect_status 404 "bob $m A's profile"
done
api GET "/api/ssh/profiles/$(uuid_rand)" "" "$ALICE"
expect_status 404 "unknown profile"

# Changing.
api PATCH "/api/ssh/profiles/$PROD" '{"port":22}' "$CAROL"
expect_status 403 "carol cannot change a profile"
api PATCH "/api/ssh/profiles/$PROD" '{"port":2200,"username":"ops"}' "$DAVE"
expect_status 200 "dave changes port and user"
expect_jq '.port == 2200 and .username == "ops" and .host_key != null' "changed, pin kept"
expect_audit 1 "$ALICE" SSH_PROFILE_UPDATED "$PROD" "SSH_PROFILE_UPDATED audited"
BODY=$AUDIT expect_jq '.[0].detail.changed == ["port","username"] and .[0].detail.port == 2200' "audit detail"
api PATCH "/api/ssh/profiles/$PROD" '{"host_key":""}' "$ALICE"
expect_status 200 "unpin"
expect_jq '.host_key == null and .host_key_pinned_at == null and .host_key_fingerprint == null' "unpinned"
api PATCH "/api/ssh/profiles/$PROD" "$(jq -nc --rawfile k "$KEYS/hostkey.pub" '{host_key:$k}')" "$ALICE"
expect_status 200 "pin again from a .pub file"
expect_eq "$HOSTKEY_FP" "$(jq -r .host_key_fingerprint <<<"$BODY")" "pinned again"
api PATCH "/api/ssh/profiles/$PROD" '{"host_key":null}' "$ALICE"
expect_jq '.host_key == null' "null unpins too"
api PATCH "/api/ssh/profiles/$PROD" '{}' "$ALICE"
expect_status 400 "nothing to change"
api PATCH "/api/ssh/profiles/$PROD" '{"name":"web"}' "$ALICE"
expect_status 409 "rename onto another profile"
api PATCH "/api/ssh/profiles/$PROD" "{\"credential_secret_id\":\"$API_SECRET\"}" "$ALICE"
expect_status 400 "an API_KEY credential"
api PATCH "/api/ssh/profiles/$PROD" "{\"credential_secret_id\":\"$B_SECRET\"}" "$ALICE"
expect_status 400 "org B's credential"
api PATCH "/api/ssh/profiles/$PROD" '{"host":"bad host"}' "$ALICE"
expect_status 400 "bad host"
api PATCH "/api/ssh/profiles/$PROD" "{\"credential_secret_id\":\"$PW_SECRET\",\"host\":\"db2.internal\"}" "$ADMIN_TOK"
expect_status 200 "an admin token switches the credential"
expect_eq "$PW_SECRET" "$(jq -r .credential_secret_id <<<"$BODY")" "credential switched"
api PATCH "/api/ssh/profiles/$PROD" "{\"credential_secret_id\":\"$SSH_SECRET\"}" "$ADMIN_BLIND_TOK"
expect_status 400 "an admin token that cannot read the secret cannot switch to it"

# ---- tickets ----------------------------------------------------------------------------------
ticket() { api POST /api/ssh/tickets "$(jq -nc --arg p "$1" '{profile_id:$p}')" "$2"; }
ticket "$PROD" "$ALICE"
expect_status 201 "alice gets a ticket for prod-db"
T1=$(jq -r .ticket <<<"$BODY")
[[ $T1 =~ ^vtt_[A-Za-z0-9_-]{43}$ ]] && pass || fail "ticket shape: $T1"
expect_jq ".profile == \"prod-db\" and .profile_id == \"$PROD\"" "ticket names the profile"
exp=$(date -d "$(jq -r .expires_at <<<"$BODY")" +%s)
now=$(date +%s)
[ $((exp - now)) -ge 50 ] && [ $((exp - now)) -le 61 ] && pass ||
	fail "ticket expires in $((exp - now)) s, not about 60"
if [ -n "${VT_SSH_PORT:-}" ]; then
	api GET /api/ssh/broker "" "$CAROL"
	expect_status 200 "GET /api/ssh/broker with a running broker"
	expect_jq ".port == $VT_SSH_PORT and (.host_key | startswith(\"ssh-ed25519 \")) and (.host | length > 0)" \
		"broker: port, host key"
	BHOST=$(jq -r .host <<<"$BODY")
	ticket "$PROD" "$ALICE"
	expect_eq "ssh -p $VT_SSH_PORT prod-db@$BHOST" "$(jq -r .ssh_command <<<"$BODY")" "ssh_command"
else
	expect_jq '.ssh_command == null' "no broker on this server: ssh_command null"
	api GET /api/ssh/broker "" "$CAROL"
	expect_status 503 "GET /api/ssh/broker without a broker"
	expect_code unavailable "no broker"
	ticket "$PROD" "$ALICE"
	expect_status 201 "a second ticket"
fi
api GET /api/ssh/broker ""
expect_status 401 "broker address needs a bearer"
# Only the SHA-256 is stored; the ticket is nowhere in the database's tables, the audit trail
# or the server log.
H1=$(printf '%s' "$T1" | sha256sum | cut -d' ' -f1)
expect_eq "1|$ALICE_ID||$PROD|60" "$(psql_super "SELECT count(*), min(user_id::text), min(token_id::text),
	min(profile_id::text), min(extract(epoch FROM expires_at - created_at)::int)
	FROM ssh_tickets WHERE ticket_hash = '\\x$H1'")" "the ticket's hash row"
expect_eq 0 "$(psql_super "SELECT count(*) FROM ssh_tickets WHERE position('$T1' IN encode(ticket_hash, 'escape')) > 0")" \
	"the ticket itself is not stored"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE detail::text LIKE '%$T1%' OR detail::text LIKE '%$H1%'")" \
	"ticket (and hash) not in the audit trail"
grep -qF "$T1" "$VT_LOG" && fail "the ticket is in the server log" || pass
expect_audit 2 "$ALICE" SSH_TICKET_ISSUED "$PROD" "SSH_TICKET_ISSUED audited per ticket"
BODY=$AUDIT expect_jq 'all(.[]; .detail.profile == "prod-db" and (.detail | keys) == ["expires_at","profile"])' \
	"ticket audit detail: profile and expiry only"
# Consumed once (the broker's definer function, as the app role); expired ones never.
expect_eq "$A_ORG|$ALICE_ID||$PROD|alice@ssh.example" \
	"$(psql_app "SELECT org_id, user_id, token_id, profile_id, email FROM vt_ssh_ticket_consume('\\x$H1')")" \
	"ticket consumed"
expect_eq "" "$(psql_app "SELECT org_id FROM vt_ssh_ticket_consume('\\x$H1')")" "a second use finds nothing"
ticket "$PROD" "$ALICE"
T2=$(jq -r .ticket <<<"$BODY")
H2=$(printf '%s' "$T2" | sha256sum | cut -d' ' -f1)
psql_super "UPDATE ssh_tickets SET expires_at = now() - interval '1 s' WHERE ticket_hash = '\\x$H2'" >/dev/null
expect_eq "" "$(psql_app "SELECT org_id FROM vt_ssh_ticket_consume('\\x$H2')")" "an expired ticket finds nothing"
[ "$T1" != "$T2" ] && pass || fail "two tickets are equal"

# Who may have one.
ticket "$PROD" "$CAROL"
expect_status 403 "carol cannot read the profile's credential: no ticket"
expect_jq '.error.message | test("vault you cannot read")' "says why"
grant "$ALICE" "$A_VAULT" "$CAROL_ID" VIEWER
ticket "$PROD" "$CAROL"
expect_status 201 "with VIEWER on the vault, carol gets one"
ticket "$PROD" "$CONNECT_TOK"
expect_status 201 "an ssh:connect + vault:read token gets one"
TT=$(jq -r .ticket <<<"$BODY")
expect_eq "|$CONNECT_TOK_ID" "$(psql_super "SELECT user_id, token_id FROM ssh_tickets
	WHERE ticket_hash = sha256('$TT'::bytea)")" "the token's ticket names the token"
ticket "$PROD" "$CONNECT_BLIND_TOK"
expect_status 403 "an ssh:connect token without vault:read: no ticket"
ticket "$PROD" "$READ_TOK"
expect_status 403 "a vault:read token without ssh:connect"
expect_jq '.error.message | test("ssh:connect")' "names the scope"
ticket "$PROD" "$ADMIN_TOK"
expect_status 403 "an admin token without ssh:connect"
ticket "$PROD" "$BOB"
expect_status 404 "bob: a ticket for A's profile is 404"
ticket "$(uuid_rand)" "$ALICE"
expect_status 404 "unknown profile"
ticket "not-a-uuid" "$ALICE"
expect_status 400 "malformed profile id"
api POST /api/ssh/tickets '{}' "$ALICE"
expect_status 400 "no profile id"
api POST /api/ssh/tickets '{"profile_id":"x","more":1}' "$ALICE"
expect_status 400 "unknown field"

# Deleting.
api DELETE "/api/ssh/profiles/$V6" "" "$CAROL"
expect_status 403 "carol cannot delete"
api DELETE "/api/ssh/profiles/$V6" "" "$ADMIN_TOK"
expect_status 204 "an admin token deletes v6"
api GET "/api/ssh/profiles/$V6" "" "$ALICE"
expect_status 404 "gone"
api DELETE "/api/ssh/profiles/$V6" "" "$ALICE"
expect_status 404 "deleted twice"
expect_audit 1 "$ALICE" SSH_PROFILE_DELETED "$V6" "SSH_PROFILE_DELETED audited"
api DELETE "/api/ssh/profiles/$WEB" "" "$DAVE"
expect_status 204 "dave deletes web"
ticket "$WEB" "$ALICE"
expect_status 404 "no ticket for a deleted profile"
: "$CI"

# ---- recording switch --------------------------------------------------------------------------
api GET /api/orgs/current "" "$CAROL"
expect_jq '.recording_enabled == true' "recording on by default"
api PATCH /api/orgs/current '{"recording_enabled":false}' "$CAROL"
expect_status 403 "a member cannot turn recording off"
api PATCH /api/orgs/current '{"recording_enabled":false}' "$ADMIN_TOK"
expect_status 403 "nor an admin token"
api PATCH /api/orgs/current '{"recording_enabled":false}' "$DAVE"
expect_status 200 "an admin turns recording off"
expect_jq '.recording_enabled == false and .id != null' "off"
expect_eq f "$(psql_super "SELECT recording_enabled FROM orgs WHERE id = '$A_ORG'")" "stored off"
expect_eq t "$(psql_super "SELECT recording_enabled FROM orgs WHERE id = '$B_ORG'")" "org B untouched"
audit_all "$ALICE" "action=ORG_UPDATED"
BODY=$AUDIT expect_jq 'any(.[]; .detail.recording_enabled == false and .detail.was == true)' \
	"ORG_UPDATED with recording_enabled"
api PATCH /api/orgs/current '{"name":"A renamed"}' "$DAVE"
expect_status 403 "an admin cannot rename (owner only)"
api PATCH /api/orgs/current '{"name":"A renamed","recording_enabled":true}' "$ALICE"
expect_status 200 "the owner renames and turns recording on"
expect_jq '.name == "A renamed" and .recording_enabled == true' "both changed"
api PATCH /api/orgs/current '{}' "$ALICE"
expect_status 400 "nothing to change"
api PATCH /api/orgs/current '{"recording_enabled":"no"}' "$ALICE"
expect_status 400 "recording_enabled must be a boolean"

finish
