#!/usr/bin/env bash
# Tenant isolation through the API, attacked from org B. Org A: owner alice, an invited member
# (carol), a pending invite (dave), an API token (audit:read). Org B: owner bob and his token.
# Proves that A's members, invites, tokens and audit rows are
#  - absent from every list endpoint B's user and B's token can call (checked by id, on the raw
#    response, and with audit filters naming A's ids);
#  - 404 for B's user on every id-taking endpoint, with the same body as an id that exists nowhere
#    (no existence oracle); B's token gets the same answer for A's id as for its own org's ids;
#  - unchanged after all of that (token works, member listed, invite pending).
# Also: an edited JWT org claim is refused (signed); a correctly signed JWT naming an org its user
# does not belong to is refused (membership is re-read per request); a user removed from A gets
# 401 with the JWT that still names A.
. "$(dirname "$0")/lib.sh"

vt_start

PW='correct horse battery staple'
NOWHERE=00000000-0000-4000-8000-000000000000 # a well-formed id that exists in no org

reg() {
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$PW" '{email:$e,password:$p}')"
	expect_status 201 "register $1"
	REG_TOKEN=$(jq -r .token <<<"$BODY")
	REG_USER=$(jq -r .user.id <<<"$BODY")
	REG_ORG=$(jq -r .org.id <<<"$BODY")
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
b64url_dec() {
	local s
	s=$(tr -- '-_' '+/' <<<"$1")
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	base64 -d <<<"$s"
}
# jwt_sign PAYLOAD_JSON: an HS256 JWT signed with this server's JWT_SECRET.
jwt_sign() {
	local h p s
	h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
	p=$(printf '%s' "$1" | b64url)
	s=$(printf '%s' "$h.$p" | openssl dgst -sha256 -hmac "$(vt_secret JWT_SECRET)" -binary | b64url)
	printf '%s.%s.%s' "$h" "$p" "$s"
}

# no_ids WHAT: none of A's ids occurs anywhere in $BODY.
no_ids() {
	local id leaked=""
	for id in "${A_IDS[@]}"; do
		if grep -qiF -- "$id" <<<"$BODY"; then leaked="$leaked $id"; fi
	done
	if [ -z "$leaked" ]; then pass; else fail "$1: A's ids leaked:$leaked in $BODY"; fi
}

# ---- org A ---------------------------------------------------------------------------------------
reg alice@iso.example
A_JWT=$REG_TOKEN A_USER=$REG_USER A_ORG=$REG_ORG
api POST /api/orgs/current/invites '{"email":"carol@iso.example","org_role":"member"}' "$A_JWT"
expect_status 201 "A invites carol"
CAROL_INVITE=$(jq -r .id <<<"$BODY")
tok=$(jq -r .invite_token <<<"$BODY")
api POST /api/auth/accept-invite "$(jq -nc --arg t "$tok" --arg p "$PW" \
	'{invite_token:$t,password:$p}')"
expect_status 200 "carol accepts"
C_JWT=$(jq -r .token <<<"$BODY")
C_USER=$(jq -r .user.id <<<"$BODY")
expect_eq "$A_ORG" "$(jq -r .org.id <<<"$BODY")" "carol joined org A"
api POST /api/orgs/current/invites '{"email":"dave@iso.example","org_role":"admin"}' "$A_JWT"
expect_status 201 "A invites dave"
A_INVITE=$(jq -r .id <<<"$BODY")
api POST /api/tokens '{"name":"a-audit","scopes":["audit:read"]}' "$A_JWT"
expect_status 201 "A creates a token"
A_TOKEN_ID=$(jq -r .id <<<"$BODY")
A_TOKEN=$(jq -r .token <<<"$BODY")
api GET /api/audit "" "$A_TOKEN"
expect_status 200 "A's token reads A's audit"
# A bad-password login for alice: a tenant row in A naming alice.
api POST /api/auth/login "$(jq -nc '{email:"alice@iso.example",password:"not the password"}')"
expect_status 401 "alice bad password"
api GET "/api/audit?limit=500" "" "$A_JWT"
expect_status 200 "alice lists A's audit"
mapfile -t A_AUDIT < <(jq -r '.items[].id' <<<"$BODY")
[ "${#A_AUDIT[@]}" -ge 6 ] && pass || fail "A has only ${#A_AUDIT[@]} audit rows"
A_IDS=("$A_ORG" "$A_USER" "$C_USER" "$CAROL_INVITE" "$A_INVITE" "$A_TOKEN_ID" "${A_AUDIT[@]}"
	"alice@iso.example" "carol@iso.example" "dave@iso.example" "a-audit")

# ---- org B ---------------------------------------------------------------------------------------
reg bob@iso.example
B_JWT=$REG_TOKEN B_USER=$REG_USER B_ORG=$REG_ORG
api POST /api/orgs/current/invites '{"email":"erin@iso.example"}' "$B_JWT"
expect_status 201 "B invites erin"
B_INVITE=$(jq -r .id <<<"$BODY")
api POST /api/tokens '{"name":"b-admin","scopes":["admin","audit:read"]}' "$B_JWT"
expect_status 201 "B creates a token"
B_TOKEN_ID=$(jq -r .id <<<"$BODY")
B_TOKEN=$(jq -r .token <<<"$BODY")

# ---- lists, as B's user and as B's token -------------------------------------------------------
# Cursors and time windows reach past B's own rows; RLS must still scope them.
WIDE=("/api/orgs/current/members?cursor=00000000-0000-0000-0000-000000000000"
	"/api/audit?cursor=9223372036854775807&limit=500" "/api/events/v1?from=2000-01-01&limit=500"
	"/api/events/v1?from=2000-01-01&to=2999-12-31&limit=500")
for path in /api/orgs/current /api/orgs/current/members /api/orgs/current/invites /api/tokens \
	"/api/audit?limit=500" "/api/events/v1?limit=500" /api/auth/me "${WIDE[@]}"; do
	api GET "$path" "" "$B_JWT"
	expect_status 200 "bob GET $path"
	no_ids "bob GET $path"
done
# Positive control: B's own objects are listed (so an empty body is not what passes the check).
api GET /api/orgs/current/members "" "$B_JWT"
expect_jq "[.items[].user_id] == [\"$B_USER\"]" "bob sees exactly B's members"
api GET /api/orgs/current/invites "" "$B_JWT"
expect_jq "[.items[].id] == [\"$B_INVITE\"]" "bob sees exactly B's invites"
api GET /api/tokens "" "$B_JWT"
expect_jq "[.items[].id] == [\"$B_TOKEN_ID\"]" "bob sees exactly B's tokens"
api GET "/api/events/v1?limit=500" "" "$B_JWT"
expect_jq '(.events | length) >= 2' "bob sees B's events"
for path in /api/orgs/current/members "/api/audit?limit=500" "/api/events/v1?limit=500" \
	/api/orgs/current /api/auth/me "${WIDE[@]}"; do
	api GET "$path" "" "$B_TOKEN"
	expect_status 200 "B's token GET $path"
	no_ids "B's token GET $path"
done
# Endpoints a token may never use answer the same for it in any org: no information either way.
for path in /api/orgs/current/invites /api/tokens; do
	api GET "$path" "" "$B_TOKEN"
	expect_status 403 "B's token GET $path"
	no_ids "B's token GET $path"
done
# Audit filters naming A's ids or e-mail, from B: nothing.
for q in "actor=$A_USER" "actor=$C_USER" "actor=alice@iso.example" "resource=$A_TOKEN_ID" \
	"resource=$A_INVITE" "resource=$A_USER" "resource=$A_ORG" "action=API_TOKEN_CREATED"; do
	for who in "$B_JWT" "$B_TOKEN"; do
		api GET "/api/audit?$q" "" "$who"
		expect_status 200 "B GET /api/audit?$q"
		no_ids "B GET /api/audit?$q"
	done
done
api GET "/api/audit?actor=$A_USER" "" "$B_JWT"
expect_jq '.items == []' "bob: audit filtered on alice is empty"
api GET "/api/audit?resource=$A_TOKEN_ID" "" "$B_TOKEN"
expect_jq '.items == []' "B's token: audit filtered on A's token is empty"
api GET "/api/audit?action=API_TOKEN_CREATED" "" "$B_JWT"
expect_jq "[.items[].resource.id] == [\"$B_TOKEN_ID\"]" "bob: API_TOKEN_CREATED shows only B's"

# ---- id-taking endpoints with A's ids ------------------------------------------------------------
# attack METHOD PATH BODY WHAT: bob gets exactly the response of an id that exists nowhere (404).
attack() {
	local method=$1 path=$2 body=$3 nowhere_body
	api "$method" "${path//@ID@/$NOWHERE}" "$body" "$B_JWT"
	expect_status 404 "bob $method ${path//@ID@/<nowhere>} (control)"
	nowhere_body=$(jq -c 'del(.error.request_id)' <<<"$BODY")
	api "$method" "${path//@ID@/$4}" "$body" "$B_JWT"
	expect_status 404 "bob $method ${path//@ID@/<A-$5>}"
	expect_code not_found "bob $method on A's $5"
	expect_eq "$nowhere_body" "$(jq -c 'del(.error.request_id)' <<<"$BODY")" \
		"bob $method on A's $5: same body as for a missing id"
	no_ids "bob $method on A's $5"
}
attack PATCH "/api/orgs/current/members/@ID@" '{"org_role":"owner"}' "$C_USER" member
attack PATCH "/api/orgs/current/members/@ID@" '{"org_role":"member"}' "$A_USER" owner
attack DELETE "/api/orgs/current/members/@ID@" "" "$C_USER" member
attack DELETE "/api/orgs/current/members/@ID@" "" "$A_USER" owner
attack DELETE "/api/orgs/current/invites/@ID@" "" "$A_INVITE" invite
attack DELETE "/api/tokens/@ID@" "" "$A_TOKEN_ID" token
# switch-org takes the id in the body.
api POST /api/auth/switch-org "{\"org_id\":\"$NOWHERE\"}" "$B_JWT"
expect_status 404 "bob switches to a missing org (control)"
nowhere_body=$(jq -c 'del(.error.request_id)' <<<"$BODY")
api POST /api/auth/switch-org "{\"org_id\":\"$A_ORG\"}" "$B_JWT"
expect_status 404 "bob switches to org A"
expect_eq "$nowhere_body" "$(jq -c 'del(.error.request_id)' <<<"$BODY")" \
	"bob switch-org A: same body as for a missing org"
expect_jq 'has("token") | not' "no token for org A"
# Uppercase spelling of A's ids is the same id: still 404.
api DELETE "/api/tokens/${A_TOKEN_ID^^}" "" "$B_JWT"
expect_status 404 "bob DELETE A's token id in upper case"

# B's token: tokens never manage members/tokens or switch orgs, so every id gets one answer
# (403); A's id must get exactly what B's own id and a missing id get.
token_attack() {
	local method=$1 path=$2 body=$3 ref ref_status id
	api "$method" "${path//@ID@/$4}" "${body//@ID@/$4}" "$B_TOKEN"
	ref_status=$STATUS
	ref=$(jq -c 'del(.error.request_id)' <<<"$BODY")
	[ "$ref_status" != 200 ] && [ "$ref_status" != 204 ] && pass ||
		fail "B's token $method $path on B's own id succeeded: $BODY"
	for id in "$NOWHERE" "$5"; do
		api "$method" "${path//@ID@/$id}" "${body//@ID@/$id}" "$B_TOKEN"
		expect_eq "$ref_status $ref" "$STATUS $(jq -c 'del(.error.request_id)' <<<"$BODY")" \
			"B's token $method $path with $id: same answer as for B's own id"
		no_ids "B's token $method $path with $id"
	done
}
token_attack PATCH "/api/orgs/current/members/@ID@" '{"org_role":"owner"}' "$B_USER" "$C_USER"
token_attack DELETE "/api/orgs/current/members/@ID@" "" "$B_USER" "$C_USER"
token_attack DELETE "/api/orgs/current/invites/@ID@" "" "$B_INVITE" "$A_INVITE"
token_attack DELETE "/api/tokens/@ID@" "" "$B_TOKEN_ID" "$A_TOKEN_ID"
token_attack POST /api/auth/switch-org '{"org_id":"@ID@"}' "$B_ORG" "$A_ORG"

# ---- A is unchanged --------------------------------------------------------------------------------
api GET /api/auth/me "" "$A_TOKEN"
expect_status 200 "A's token still works"
expect_jq ".org.id == \"$A_ORG\"" "A's token still in org A"
api GET /api/orgs/current/members "" "$A_JWT"
expect_status 200 "alice lists members"
expect_jq "[.items[] | {user_id, org_role}] | sort_by(.user_id) == ([{user_id:\"$A_USER\",org_role:\"owner\"},{user_id:\"$C_USER\",org_role:\"member\"}] | sort_by(.user_id))" \
	"A's members and roles unchanged"
api GET /api/orgs/current/invites "" "$A_JWT"
expect_jq "[.items[].id] == [\"$A_INVITE\"]" "A's invite still pending"
api GET /api/tokens "" "$A_JWT"
expect_jq ".items | map(select(.id == \"$A_TOKEN_ID\" and .revoked_at == null)) | length == 1" \
	"A's token not revoked"
expect_eq "${#A_AUDIT[@]}" "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$A_ORG'
	AND id IN ($(printf "'%s'," "${A_AUDIT[@]}" | sed 's/,$//'))")" "A's audit rows intact"
# None of bob's attempts landed in A's trail.
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$A_ORG'
	AND (actor_id = '$B_USER' OR actor_id = '$B_TOKEN_ID')")" "no B actor in A's audit"

# ---- JWT org claim ---------------------------------------------------------------------------------
payload=$(b64url_dec "$(cut -d. -f2 <<<"$A_JWT")")
expect_eq "$A_ORG" "$(jq -r .org <<<"$payload")" "alice's JWT names org A"
forged_payload=$(jq -c --arg o "$B_ORG" '.org = $o' <<<"$payload")
# 1. Edited claim, original signature.
edited="$(cut -d. -f1 <<<"$A_JWT").$(printf '%s' "$forged_payload" | b64url).$(cut -d. -f3 <<<"$A_JWT")"
api GET /api/auth/me "" "$edited"
expect_status 401 "alice's JWT with org edited to B"
expect_code unauthorized "edited org claim"
# 2. "alg":"none" with the forged claim.
none="$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' "$forged_payload" | b64url)."
api GET /api/orgs/current/members "" "$none"
expect_status 401 "alg none JWT naming org B"
# 3. Correctly signed (a leaked key, or a token minted before a removal): membership is re-read
#    from the database, so a JWT naming an org the user does not belong to still gets nothing.
signed=$(jwt_sign "$forged_payload")
api GET /api/auth/me "" "$signed"
expect_status 401 "validly signed JWT, alice in org B"
api GET /api/orgs/current/members "" "$signed"
expect_status 401 "validly signed JWT, alice lists B's members"
no_ids "validly signed JWT for org B"
expect_jq 'tostring | contains("bob@iso.example") | not' "B's member not revealed"
# The same construction naming org A works (the check above is not just a broken signer).
api GET /api/auth/me "" "$(jwt_sign "$payload")"
expect_status 200 "re-signed genuine claims are accepted"

# ---- a removed member's JWT ------------------------------------------------------------------------
api GET /api/orgs/current/members "" "$C_JWT"
expect_status 200 "carol lists A's members before removal"
api DELETE "/api/orgs/current/members/$C_USER" "" "$A_JWT"
expect_status 204 "alice removes carol"
expect_eq "$A_ORG" "$(jq -r .org <<<"$(b64url_dec "$(cut -d. -f2 <<<"$C_JWT")")")" \
	"carol's JWT still names org A"
for path in /api/auth/me /api/orgs/current /api/orgs/current/members "/api/audit" \
	/api/orgs/current/invites; do
	api GET "$path" "" "$C_JWT"
	expect_status 401 "removed carol GET $path"
	expect_code unauthorized "removed carol GET $path"
	no_ids "removed carol GET $path"
done
api POST /api/auth/switch-org "{\"org_id\":\"$A_ORG\"}" "$C_JWT"
expect_status 401 "removed carol switches back to A"
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"carol@iso.example",password:$p}')"
expect_status 403 "carol (no org left) logs in"
expect_jq 'has("token") | not' "no token for an org-less account"

finish
