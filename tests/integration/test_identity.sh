#!/usr/bin/env bash
# Identity end to end over the HTTP API: registration, login, TOTP MFA (codes computed here with
# openssl, RFC 6238), /me, invites, org switching, org roles and removal, API tokens (shown once,
# stored as SHA-256, scoped, revocable), and the audit rows and Events API that record all of it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/totp.sh"

PW='correct horse battery staple'

# --- helpers ---------------------------------------------------------------------------------

# jb FILTER: a value from $BODY (raw).
jb() { jq -r "$1" <<<"$BODY"; }

# body_lacks TEXT WHAT: TEXT must not occur in the raw $BODY.
body_lacks() { if grep -qF -- "$1" <<<"$BODY"; then fail "$2: body contains '$1'"; else pass; fi; }

# login EMAIL PASSWORD [TOTP_CODE]
login() {
	api POST /api/auth/login "$(jq -nc --arg e "$1" --arg p "$2" --arg c "${3:-}" \
		'{email:$e,password:$p} + (if $c == "" then {} else {totp_code:$c} end)')"
}

# audit_rows TOKEN ACTION: sets BODY to the org's audit rows with that action (newest first).
audit_rows() {
	api GET "/api/audit?action=$2&limit=500" "" "$1"
	expect_status 200 "audit list $2"
}

# invite_accept_new INVITER_TOKEN EMAIL ROLE: invites a new account and accepts; prints its JWT.
invite_accept_new() {
	local tok
	api POST /api/orgs/current/invites "$(jq -nc --arg e "$2" --arg r "$3" '{email:$e,org_role:$r}')" "$1"
	[ "$STATUS" = 201 ] || { echo "invite $2 failed: $STATUS $BODY" >&2; return 1; }
	tok=$(jb .invite_token)
	api POST /api/auth/accept-invite "$(jq -nc --arg t "$tok" --arg p "$PW" '{invite_token:$t,password:$p}')"
	[ "$STATUS" = 200 ] || { echo "accept $2 failed: $STATUS $BODY" >&2; return 1; }
	jb .token
}

SECRETS=() # every token/secret value seen; none may appear in the server log

vt_start

# --- registration ------------------------------------------------------------------------------

api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"alice@example.com",password:$p,name:"Alice"}')"
expect_status 201 "register alice"
expect_jq '(keys | sort) == ["org","token","user"]' "register body keys"
expect_jq '(.token | type == "string" and length > 20) and (.user.id | test("^[0-9a-f-]{36}$"))
	and .user.email == "alice@example.com" and .user.name == "Alice"
	and (.org.id | test("^[0-9a-f-]{36}$")) and (.org.name | type == "string")' "register body shape"
ALICE=$(jb .token)
ALICE_ID=$(jb .user.id)
ORG_A=$(jb .org.id)
SECRETS+=("$ALICE")

api GET /api/auth/me "" "$ALICE"
expect_status 200 "me alice"
expect_jq ".org.id == \"$ORG_A\" and .org_role == \"owner\" and .user.id == \"$ALICE_ID\"" "register: owner of own org"
expect_jq "(.orgs | length) == 1 and .orgs[0].id == \"$ORG_A\" and .orgs[0].org_role == \"owner\"" "me orgs after register"
expect_jq '(keys | sort) == ["org","org_role","orgs","user"]' "me keys"
expect_jq '.user.mfa_enabled == false and (.user | has("id") and has("email") and has("name"))
	and (.org | has("id") and has("name"))' "me user/org shape"

api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"alice@example.com",password:$p}')"
expect_status 409 "duplicate e-mail"
expect_code conflict "duplicate e-mail code"
api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"ALICE@Example.COM",password:$p}')"
expect_status 409 "duplicate e-mail, other case"
expect_code conflict "duplicate e-mail other case code"

api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"Bob@Example.com",password:$p}')"
expect_status 201 "register bob (mixed case)"
expect_jq '.user.email == "bob@example.com"' "e-mail stored lower-case"
BOB_B=$(jb .token)
BOB_ID=$(jb .user.id)
ORG_B=$(jb .org.id)
SECRETS+=("$BOB_B")

api POST /api/auth/register '{"email":"short@example.com","password":"elevenchars"}'
expect_status 400 "password of 11 characters"
expect_code validation_failed "short password code"
expect_jq '.error.message | test("password")' "short password message names the field"
api POST /api/auth/register '{"email":"twelve@example.com","password":"twelve-chars"}'
expect_status 201 "password of exactly 12 characters"

CAROL=$(register_user carol@example.com "$PW")
api GET /api/auth/me "" "$CAROL"
ORG_C=$(jb .org.id)

# --- login ---------------------------------------------------------------------------------------

login ALICE@example.COM "$PW"
expect_status 200 "login (e-mail case-insensitive)"
expect_jq "(.token | type == \"string\") and .user.id == \"$ALICE_ID\" and .org.id == \"$ORG_A\"" "login body"
login alice@example.com "wrong password!!"
expect_status 401 "login wrong password"
expect_code unauthorized "wrong password code"
msg_wrong=$(jb .error.message)
login nobody@example.com "$PW"
expect_status 401 "login unknown e-mail"
expect_code unauthorized "unknown e-mail code"
expect_eq "$msg_wrong" "$(jb .error.message)" "wrong password and unknown e-mail give the same message"

audit_rows "$ALICE" USER_REGISTERED
expect_jq "[.items[] | select(.resource.id == \"$ALICE_ID\")] | length == 1 and
	(.[0] | .outcome == \"success\" and .actor.type == \"user\" and .actor.id == \"$ALICE_ID\"
	 and .actor.email == \"alice@example.com\" and .resource.type == \"user\")" "USER_REGISTERED row"
expect_jq "all(.items[]; .resource.id != \"$BOB_ID\")" "another org's registration is not in alice's audit"
audit_rows "$ALICE" LOGIN_SUCCEEDED
expect_jq "any(.items[]; .outcome == \"success\" and .actor.id == \"$ALICE_ID\" and .resource.id == \"$ALICE_ID\")" "LOGIN_SUCCEEDED row"
audit_rows "$ALICE" LOGIN_FAILED
expect_jq "any(.items[]; .outcome == \"failure\" and .actor.id == \"$ALICE_ID\" and .detail.reason == \"bad_password\")" "LOGIN_FAILED row"
expect_jq 'all(.items[]; .actor.email != "nobody@example.com")' "unknown-account failure is not in a tenant's audit"
body_lacks "wrong password!!" "LOGIN_FAILED never records the password"

# --- TOTP MFA ------------------------------------------------------------------------------------

api POST /api/auth/totp/confirm '{"code":"123456"}' "$ALICE"
expect_status 409 "confirm without enrolment"
expect_code conflict "confirm without enrolment code"
api POST /api/auth/totp/enroll "" "$ALICE"
expect_status 200 "totp enroll"
expect_jq '(.secret_base32 | test("^[A-Z2-7]{32}$")) and (.otpauth_uri | startswith("otpauth://totp/"))' "enroll body"
SEED=$(jb .secret_base32)
SECRETS+=("$SEED")
expect_jq ".otpauth_uri | contains(\"secret=$SEED\") and contains(\"issuer=VaultTerm\") and contains(\"alice@example.com\")" "otpauth uri"

totp_settle
n=$(totp_step)
api POST /api/auth/totp/confirm "{\"code\":\"$(totp "$SEED" $((n + 10)))\"}" "$ALICE"
expect_status 400 "confirm with a wrong code"
expect_code validation_failed "confirm wrong code code"
api GET /api/auth/me "" "$ALICE"
expect_jq '.user.mfa_enabled == false' "not enabled before confirm"
api POST /api/auth/totp/confirm "{\"code\":\"$(totp "$SEED" $((n - 1)))\"}" "$ALICE"
expect_status 204 "confirm with a valid code"
api GET /api/auth/me "" "$ALICE"
expect_jq '.user.mfa_enabled == true' "mfa enabled in me"
api POST /api/auth/totp/enroll "" "$ALICE"
expect_status 409 "enroll while enabled"

login alice@example.com "$PW"
expect_status 403 "login without totp_code"
expect_code mfa_required "login without code → mfa_required"
login alice@example.com "$PW" "$(totp "$SEED" $((n + 10)))"
expect_status 403 "login with a wrong code"
expect_code mfa_required "wrong code → mfa_required"
login alice@example.com "wrong password!!" "$(totp "$SEED" "$n")"
expect_status 401 "right code, wrong password"
CODE=$(totp "$SEED" "$n")
login alice@example.com "$PW" "$CODE"
expect_status 200 "login with the right code"
ALICE=$(jb .token)
login alice@example.com "$PW" "$CODE"
expect_status 403 "replayed code"
expect_code mfa_required "replay → mfa_required"
login alice@example.com "$PW" "$(totp "$SEED" $((n - 1)))"
expect_status 403 "older code after a newer one was used"

api POST /api/auth/totp/disable "{\"code\":\"$CODE\"}" "$ALICE"
expect_status 400 "disable with a used code"
api POST /api/auth/totp/disable "{\"code\":\"$(totp "$SEED" $((n + 1)))\"}" "$ALICE"
expect_status 204 "disable with a valid code"
api GET /api/auth/me "" "$ALICE"
expect_jq '.user.mfa_enabled == false' "mfa disabled in me"
login alice@example.com "$PW"
expect_status 200 "login without a code after disable"
ALICE=$(jb .token)
api POST /api/auth/totp/disable '{"code":"123456"}' "$ALICE"
expect_status 409 "disable when not enabled"

for a in MFA_ENROLL_STARTED MFA_ENABLED MFA_DISABLED; do
	audit_rows "$ALICE" "$a"
	expect_jq "(.items | length) >= 1 and all(.items[]; .outcome == \"success\" and .actor.id == \"$ALICE_ID\"
		and .resource.id == \"$ALICE_ID\")" "$a audited"
	body_lacks "$SEED" "$a row never holds the seed"
done
audit_rows "$ALICE" LOGIN_FAILED
expect_jq 'any(.items[]; .detail.reason == "mfa_required") and any(.items[]; .detail.reason == "mfa_invalid")' "MFA login failures audited"

# --- invites ---------------------------------------------------------------------------------------

api POST /api/orgs/current/invites '{"email":"new@example.com","org_role":"member"}' "$ALICE"
expect_status 201 "invite new@"
INV=$(jb .invite_token)
SECRETS+=("$INV")
expect_jq '(.invite_token | startswith("vti_")) and .org_role == "member" and .email == "new@example.com"' "invite body"
url=$(jb .invite_url)
# PORT=0: the link names the port the server actually bound, not 0.
expect_eq "http://localhost:${VT_ADDR##*:}/invite" "${url%%#*}" "invite_url base"
case "$url" in
*"#token=$INV") pass ;;
*) fail "invite_url does not carry the token in the fragment: $url" ;;
esac
case "${url%%#*}" in
*"$INV"*) fail "invite token appears before the fragment: $url" ;;
*) pass ;;
esac

api POST /api/auth/accept-invite "{\"invite_token\":\"$INV\"}"
expect_status 400 "accept (new account) without password"
expect_code validation_failed "accept without password code"
expect_jq '.error.message | test("password")' "accept without password names the field"
api POST /api/auth/accept-invite "{\"invite_token\":\"$INV\",\"password\":\"short\"}"
expect_status 400 "accept with a short password"
api POST /api/auth/accept-invite "$(jq -nc --arg t "$INV" --arg p "$PW" '{invite_token:$t,password:$p}')"
expect_status 200 "accept with password"
expect_jq ".org.id == \"$ORG_A\" and .org_role == \"member\" and .user.email == \"new@example.com\" and (.token | type == \"string\")" "accept body"
NEW=$(jb .token)
NEW_ID=$(jb .user.id)
api GET /api/orgs/current/members "" "$ALICE"
expect_status 200 "members list"
expect_jq "any(.items[]; .user_id == \"$NEW_ID\" and .email == \"new@example.com\" and .org_role == \"member\")" "new@ is a member"
login new@example.com "$PW"
expect_status 200 "invited user can log in"
expect_jq ".org.id == \"$ORG_A\"" "invited user lands in the inviting org"
api POST /api/auth/accept-invite "$(jq -nc --arg t "$INV" --arg p "$PW" '{invite_token:$t,password:$p}')"
expect_status 404 "accepting again"
expect_code not_found "accept again code"
api POST /api/auth/accept-invite "{\"invite_token\":\"vti_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"password\":\"$PW\"}"
expect_status 404 "unknown invite token"

# An invite for an existing account (bob, owner of org B).
api POST /api/orgs/current/invites '{"email":"bob@example.com","org_role":"member"}' "$ALICE"
expect_status 201 "invite existing bob"
INV_BOB=$(jb .invite_token)
api POST /api/auth/accept-invite "$(jq -nc --arg t "$INV_BOB" --arg p "$PW" '{invite_token:$t,password:$p}')"
expect_status 401 "existing account, unauthenticated accept"
expect_code unauthorized "unauthenticated accept code"
api POST /api/auth/accept-invite "{\"invite_token\":\"$INV_BOB\"}" "$CAROL"
expect_status 403 "accept as a different user"
expect_code forbidden "different user code"
api POST /api/auth/accept-invite "{\"invite_token\":\"$INV_BOB\"}" "$BOB_B"
expect_status 200 "accept as bob"
expect_jq ".org.id == \"$ORG_A\" and .org_role == \"member\" and .user.id == \"$BOB_ID\"" "bob accept body"
BOB_A=$(jb .token)
api GET /api/auth/me "" "$BOB_B"
expect_jq "(.orgs | length) == 2 and any(.orgs[]; .id == \"$ORG_A\" and .org_role == \"member\")
	and any(.orgs[]; .id == \"$ORG_B\" and .org_role == \"owner\") and .org.id == \"$ORG_B\"" "bob is in two orgs"
api POST /api/orgs/current/invites '{"email":"bob@example.com","org_role":"member"}' "$ALICE"
expect_status 409 "inviting an existing member"

# Switching the active org.
api POST /api/auth/switch-org "{\"org_id\":\"$ORG_A\"}" "$BOB_B"
expect_status 200 "switch-org to org A"
SW=$(jb .token)
api GET /api/auth/me "" "$SW"
expect_jq ".org.id == \"$ORG_A\" and .org_role == \"member\"" "switched token shows org A"
api POST /api/auth/switch-org "{\"org_id\":\"$(cat /proc/sys/kernel/random/uuid)\"}" "$BOB_B"
expect_status 404 "switch to a random uuid"
expect_code not_found "switch random code"
api POST /api/auth/switch-org "{\"org_id\":\"$ORG_C\"}" "$BOB_B"
expect_status 404 "switch to an existing org bob is not in"
api POST /api/auth/switch-org '{"org_id":"not-a-uuid"}' "$BOB_B"
expect_status 400 "switch with a malformed id"

# Roles. Org A: alice owner; new, bob members; adm becomes admin.
ADM=$(invite_accept_new "$ALICE" adm@example.com admin)
api GET /api/auth/me "" "$ADM"
ADM_ID=$(jb .user.id)
expect_jq ".org_role == \"admin\" and .org.id == \"$ORG_A\"" "adm is admin of org A"

api POST /api/orgs/current/invites '{"email":"m1@example.com","org_role":"member"}' "$NEW"
expect_status 403 "member cannot invite"
expect_code forbidden "member invite code"
api POST /api/orgs/current/invites '{"email":"m2@example.com","org_role":"member"}' "$ADM"
expect_status 201 "admin invites a member"
api POST /api/orgs/current/invites '{"email":"m3@example.com","org_role":"admin"}' "$ADM"
expect_status 201 "admin invites an admin"
api POST /api/orgs/current/invites '{"email":"m4@example.com","org_role":"owner"}' "$ADM"
expect_status 403 "admin cannot invite an owner"
expect_code forbidden "admin owner invite code"
api POST /api/orgs/current/invites '{"email":"m5@example.com","org_role":"king"}' "$ALICE"
expect_status 400 "invite with an unknown role"

api PATCH "/api/orgs/current/members/$ALICE_ID" '{"org_role":"member"}' "$ADM"
expect_status 403 "admin cannot demote an owner"
api PATCH "/api/orgs/current/members/$BOB_ID" '{"org_role":"owner"}' "$ADM"
expect_status 403 "admin cannot make an owner"
api PATCH "/api/orgs/current/members/$BOB_ID" '{"org_role":"admin"}' "$NEW"
expect_status 403 "member cannot change roles"
api PATCH "/api/orgs/current/members/$BOB_ID" '{"org_role":"admin"}' "$ALICE"
expect_status 200 "owner promotes bob to admin"
expect_jq ".user_id == \"$BOB_ID\" and .org_role == \"admin\"" "promote body"
api GET /api/auth/me "" "$BOB_A"
expect_jq '.org_role == "admin"' "role change takes effect on bob's existing token"
api PATCH "/api/orgs/current/members/$(cat /proc/sys/kernel/random/uuid)" '{"org_role":"admin"}' "$ALICE"
expect_status 404 "role change of a non-member"

api PATCH "/api/orgs/current/members/$ALICE_ID" '{"org_role":"admin"}' "$ALICE"
expect_status 409 "last owner cannot be demoted"
expect_code conflict "last owner demote code"
api DELETE "/api/orgs/current/members/$ALICE_ID" "" "$ALICE"
expect_status 409 "last owner cannot leave"
expect_code conflict "last owner remove code"

api DELETE "/api/orgs/current/members/$BOB_ID" "" "$NEW"
expect_status 403 "member cannot remove another member"
api DELETE "/api/orgs/current/members/$NEW_ID" "" "$NEW"
expect_status 204 "member leaves"
api GET /api/auth/me "" "$NEW"
expect_status 401 "the leaver's JWT fails on the next request"
login new@example.com "$PW"
expect_status 403 "a user with no org cannot log in"

api DELETE "/api/orgs/current/members/$BOB_ID" "" "$ALICE"
expect_status 204 "owner removes bob"
api GET /api/auth/me "" "$BOB_A"
expect_status 401 "removed user's token for that org fails on the next request"
expect_code unauthorized "removed user's code"
api GET /api/orgs/current "" "$SW"
expect_status 401 "removed user's switched token fails too"
api GET /api/auth/me "" "$BOB_B"
expect_status 200 "removed user's other org still works"
expect_jq "(.orgs | length) == 1 and .orgs[0].id == \"$ORG_B\"" "bob back to one org"
api DELETE "/api/orgs/current/members/$BOB_ID" "" "$ALICE"
expect_status 404 "removing a non-member"

audit_rows "$ALICE" INVITE_CREATED
expect_jq "any(.items[]; .detail.email == \"new@example.com\" and .detail.org_role == \"member\"
	and .actor.id == \"$ALICE_ID\" and .resource.type == \"invite\")" "INVITE_CREATED row"
expect_jq "any(.items[]; .detail.email == \"m3@example.com\" and .actor.id == \"$ADM_ID\")" "INVITE_CREATED by admin"
audit_rows "$ALICE" INVITE_ACCEPTED
expect_jq "any(.items[]; .actor.id == \"$NEW_ID\" and .detail.org_role == \"member\")
	and any(.items[]; .actor.id == \"$BOB_ID\")" "INVITE_ACCEPTED rows"
audit_rows "$ALICE" MEMBER_ROLE_CHANGED
expect_jq "any(.items[]; .resource.id == \"$BOB_ID\" and .detail.from == \"member\" and .detail.to == \"admin\"
	and .actor.id == \"$ALICE_ID\")" "MEMBER_ROLE_CHANGED row"
audit_rows "$ALICE" MEMBER_REMOVED
expect_jq "any(.items[]; .resource.id == \"$NEW_ID\" and .detail.self == true and .actor.id == \"$NEW_ID\")
	and any(.items[]; .resource.id == \"$BOB_ID\" and .detail.self == false and .actor.id == \"$ALICE_ID\")" "MEMBER_REMOVED rows"
for t in "$INV" "$INV_BOB"; do
	api GET "/api/audit?limit=500" "" "$ALICE"
	body_lacks "$t" "audit never holds an invite token"
done

# Owner promotes adm to owner; then alice is no longer the last owner and may be demoted.
api PATCH "/api/orgs/current/members/$ADM_ID" '{"org_role":"owner"}' "$ALICE"
expect_status 200 "owner promotes admin to owner"
api PATCH "/api/orgs/current/members/$ALICE_ID" '{"org_role":"admin"}' "$ADM"
expect_status 200 "a non-last owner can be demoted"
api PATCH "/api/orgs/current/members/$ADM_ID" '{"org_role":"admin"}' "$ADM"
expect_status 409 "the remaining owner is now the last one"
api PATCH "/api/orgs/current/members/$ALICE_ID" '{"org_role":"owner"}' "$ADM"
expect_status 200 "alice owner again"

# --- API tokens -----------------------------------------------------------------------------------

api POST /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$ALICE"
expect_status 201 "create token ci"
expect_jq '(.token | test("^vt_[A-Za-z0-9_-]{43}$")) and .name == "ci" and .scopes == ["audit:read"]
	and (.id | test("^[0-9a-f-]{36}$"))' "token create body"
T_CI=$(jb .token)
T_CI_ID=$(jb .id)
api POST /api/tokens '{"name":"reader","scopes":["vault:read","vault:read"]}' "$ALICE"
expect_status 201 "create token reader"
expect_jq '.scopes == ["vault:read"]' "duplicate scopes collapse"
T_VR=$(jb .token)
T_VR_ID=$(jb .id)
api POST /api/tokens '{"name":"adm","scopes":["admin"]}' "$ADM"
expect_status 201 "an org owner (adm) creates an admin-scope token"
T_ADM=$(jb .token)
SECRETS+=("$T_CI" "$T_VR" "$T_ADM")

api GET /api/tokens "" "$ALICE"
expect_status 200 "list tokens"
expect_jq "any(.items[]; .id == \"$T_CI_ID\" and .name == \"ci\") and any(.items[]; .id == \"$T_VR_ID\")" "list has the tokens"
expect_jq 'all(.items[]; has("token") | not)' "list items carry no token field"
for t in "$T_CI" "$T_VR" "$T_ADM"; do body_lacks "$t" "token list never contains a token value"; done

want=$(printf '%s' "$T_CI" | openssl dgst -sha256 | awk '{print $NF}')
expect_eq "$want" "$(psql_super "SELECT encode(token_hash,'hex') FROM api_tokens WHERE id = '$T_CI_ID'")" "DB stores sha256(token)"
expect_eq 32 "$(psql_super "SELECT octet_length(token_hash) FROM api_tokens WHERE id = '$T_CI_ID'")" "hash is 32 bytes"
expect_eq 0 "$(psql_super "SELECT count(*) FROM api_tokens t WHERE strpos(row_to_json(t)::text, '${T_CI#vt_}') > 0")" "no column holds the token value"

api POST /api/tokens '{"name":"x","scopes":["audit:read"]}' "$SW"
expect_status 401 "removed member's token cannot create tokens"
MEM=$(invite_accept_new "$ALICE" mem@example.com member)
api POST /api/tokens '{"name":"x","scopes":["audit:read"]}' "$MEM"
expect_status 403 "member cannot create tokens"
expect_code forbidden "member token create code"
api GET /api/tokens "" "$MEM"
expect_status 403 "member cannot list tokens"
for t in "$T_CI" "$T_ADM"; do
	api POST /api/tokens '{"name":"x","scopes":["audit:read"]}' "$t"
	expect_status 403 "a token cannot create tokens"
	api DELETE "/api/tokens/$T_VR_ID" "" "$t"
	expect_status 403 "a token cannot revoke tokens"
done

api GET /api/auth/me "" "$T_CI"
expect_status 200 "me with an API token"
expect_jq ".user == null and .org.id == \"$ORG_A\" and .token.id == \"$T_CI_ID\" and .token.scopes == [\"audit:read\"]" "me shows the token"
api GET /api/audit "" "$T_CI"
expect_status 200 "audit:read token reads audit"
api GET "/api/events/v1?from=$(date -u +%F)" "" "$T_CI"
expect_status 200 "audit:read token reads events"
api GET /api/audit "" "$T_VR"
expect_status 403 "token without audit:read: audit"
expect_code forbidden "no audit:read code"
api GET /api/events/v1 "" "$T_VR"
expect_status 403 "token without audit:read: events"
api POST /api/auth/switch-org "{\"org_id\":\"$ORG_B\"}" "$T_CI"
expect_status 403 "a token cannot switch org"

api DELETE "/api/tokens/$T_CI_ID" "" "$ALICE"
expect_status 204 "revoke ci"
api GET /api/audit "" "$T_CI"
expect_status 401 "revoked token fails on the very next request"
expect_code unauthorized "revoked token code"
api GET /api/auth/me "" "$T_CI"
expect_status 401 "revoked token: me"
api GET /api/tokens "" "$ALICE"
expect_jq "any(.items[]; .id == \"$T_CI_ID\" and (.revoked_at | type == \"string\"))" "revoked_at shown"

api POST /api/tokens '{"name":"b","scopes":["audit:read"]}' "$BOB_B"
expect_status 201 "bob creates a token in org B"
T_B=$(jb .token)
T_B_ID=$(jb .id)
SECRETS+=("$T_B")
api DELETE "/api/tokens/$T_B_ID" "" "$ALICE"
expect_status 404 "revoking another org's token id"
expect_code not_found "other org token code"
api GET /api/audit "" "$T_B"
expect_status 200 "the other org's token still works"
api DELETE "/api/tokens/$(cat /proc/sys/kernel/random/uuid)" "" "$ALICE"
expect_status 404 "revoking an unknown id"
api DELETE /api/tokens/not-a-uuid "" "$ALICE"
expect_status 400 "revoking a malformed id"

api POST /api/tokens '{"name":"short","scopes":["audit:read"],"expires_in_seconds":60}' "$ALICE"
expect_status 201 "token with a 60 s lifetime"
T_SHORT=$(jb .token)
SECRETS+=("$T_SHORT")
now=$(date -u +%s)
exp=$(jq -r '.expires_at | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' <<<"$BODY")
if [ -n "$exp" ] && [ "$exp" -ge $((now + 50)) ] && [ "$exp" -le $((now + 65)) ]; then pass; else
	fail "expires_at not ~60 s ahead: $(jb .expires_at) (now $now)"
fi
api POST /api/tokens '{"name":"short","scopes":["audit:read"],"expires_in_seconds":59}' "$ALICE"
expect_status 400 "expires_in_seconds below the minimum"
api POST /api/tokens '{"name":"bad","scopes":["audit:read","root"]}' "$ALICE"
expect_status 400 "unknown scope"
expect_code validation_failed "unknown scope code"
expect_jq '.error.message | test("scopes")' "unknown scope message names scopes"
api POST /api/tokens '{"name":"bad","scopes":"audit:read"}' "$ALICE"
expect_status 400 "scopes not an array"

audit_rows "$ALICE" API_TOKEN_CREATED
expect_jq "any(.items[]; .resource.id == \"$T_CI_ID\" and .resource.type == \"api_token\" and .actor.id == \"$ALICE_ID\"
	and .detail.name == \"ci\" and .detail.scopes == [\"audit:read\"])" "API_TOKEN_CREATED row"
audit_rows "$ALICE" API_TOKEN_REVOKED
expect_jq "[.items[] | select(.resource.id == \"$T_CI_ID\")] | length == 1 and .[0].actor.id == \"$ALICE_ID\"" "API_TOKEN_REVOKED row"
api GET "/api/audit?limit=500" "" "$ALICE"
for t in "$T_CI" "$T_VR" "$T_ADM" "$T_SHORT" "${T_CI#vt_}"; do body_lacks "$t" "no token value anywhere in the audit"; done
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log a WHERE strpos(a::text, '${T_CI#vt_}') > 0")" "no token value in any audit row (DB)"

# --- Events API and audit filters ----------------------------------------------------------------

today=$(date -u +%F)
api GET "/api/events/v1?from=$today&to=$today&limit=500" "" "$ALICE"
expect_status 200 "events today"
expect_jq '(.events | length) > 10 and .next_cursor == null' "events list"
expect_jq "all(.events[]; (.title | type == \"string\" and length > 0) and (.category | type == \"string\")
	and (.severity | type == \"string\") and (.action | test(\"^[A-Z_]+$\")) and (.timestamp | startswith(\"$today\")))" "event fields"
expect_jq 'any(.events[]; .action == "USER_REGISTERED" and .title == "User registered" and .category == "identity" and .severity == "info")' "USER_REGISTERED event"
expect_jq '[.events[].timestamp] == ([.events[].timestamp] | sort)' "events oldest first"
all_ids=$(jq -r '.events[].id' <<<"$BODY")
total=$(wc -l <<<"$all_ids")

cursor="" walked="" pages=0
while :; do
	api GET "/api/events/v1?from=$today&to=$today&limit=2${cursor:+&cursor=$cursor}" "" "$ALICE"
	[ "$STATUS" = 200 ] || { fail "events page: $STATUS $BODY"; break; }
	[ "$(jq '.events | length' <<<"$BODY")" -le 2 ] || fail "page larger than limit"
	walked+=$(jq -r '.events[].id' <<<"$BODY")$'\n'
	cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
	pages=$((pages + 1))
	[ -n "$cursor" ] && [ "$pages" -lt 500 ] || break
done
walked=$(sed '/^$/d' <<<"$walked")
expect_eq "$all_ids" "$walked" "limit=2 pagination walks every event once, in order"
expect_eq "$total" "$(sort -u <<<"$walked" | wc -l)" "no duplicates across pages"
expect_eq $(((total + 1) / 2)) "$pages" "page count"

api GET "/api/events/v1?from=$(date -u -d tomorrow +%F)" "" "$ALICE"
expect_status 200 "events from tomorrow"
expect_jq '.events == []' "no events from tomorrow"
api GET "/api/events/v1?from=$(date -u -d yesterday +%F)&to=$(date -u -d yesterday +%F)" "" "$ALICE"
expect_jq '.events == []' "no events yesterday"
api GET "/api/events/v1?from=yesterday" "" "$ALICE"
expect_status 400 "events with a malformed from"
api GET "/api/events/v1?from=$today&to=$today" "" "$BOB_B"
expect_jq "all(.events[]; .actor.id != \"$ALICE_ID\")" "org B's events do not include org A's actions"

api GET "/api/audit?action=LOGIN_FAILED" "" "$ALICE"
expect_status 200 "audit filtered by action"
expect_jq '(.items | length) >= 3 and all(.items[]; .action == "LOGIN_FAILED")' "action filter"
api GET "/api/audit?action=login_failed" "" "$ALICE"
expect_status 400 "lower-case action filter"
api GET "/api/audit?actor=$ALICE_ID&limit=500" "" "$ALICE"
expect_jq "(.items | length) > 0 and all(.items[]; .actor.id == \"$ALICE_ID\")" "actor filter"

# --- no secret reached the server log ----------------------------------------------------------

for s in "${SECRETS[@]}" "$PW"; do
	if grep -qF -- "$s" "$VT_LOG"; then fail "a secret value appears in the server log"; else pass; fi
done

finish
