#!/usr/bin/env bash
# Fail closed: an action whose audit row cannot be written did not happen. With every audit_log
# insert made to fail (a superuser adds CHECK (false) NOT VALID: existing rows stay, new ones are
# refused), register, login (success and failure, tenant and system rows), token creation and
# revocation, invites and member removal all answer 5xx, and the database is unchanged: no
# user/org/membership/token/invite row appears or changes, no token is handed out, the token and
# the member that were to be revoked/removed still work. Dropping the constraint makes the very
# same requests succeed, so the audit failure is the cause.
. "$(dirname "$0")/lib.sh"

vt_start

PW='correct horse battery staple'

COUNTS_SQL="SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM orgs) || ' ' ||
	(SELECT count(*) FROM memberships) || ' ' || (SELECT count(*) FROM api_tokens) || ' ' ||
	(SELECT count(*) FROM invites) || ' ' || (SELECT count(*) FROM audit_log)"
# A digest of every row of the tables the actions write (not audit_log: counted above).
STATE_SQL="SELECT md5(
	coalesce((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM users t), '') ||
	coalesce((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM orgs t), '') ||
	coalesce((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM memberships t), '') ||
	coalesce((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM api_tokens t), '') ||
	coalesce((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM invites t), ''))"

# expect_5xx WHAT: a server error with the documented body, and no token in it.
expect_5xx() {
	case $STATUS in
	5??) pass ;;
	*) fail "$1: expected 5xx, got $STATUS: $BODY" ;;
	esac
	expect_jq '.error.code == "internal" or .error.code == "unavailable"' "$1: error code"
	expect_jq 'has("token") | not' "$1: no token in the body"
	grep -q 'vt_[A-Za-z0-9_-]\{43\}\|eyJ' <<<"$BODY" && fail "$1: a credential in the body" || pass
}

# ---- setup: alice (org A) with a member (carol), a token, a pending invite ----------------------
A_JWT=$(register_user alice@fc.example)
api POST /api/orgs/current/invites '{"email":"carol@fc.example"}' "$A_JWT"
expect_status 201 "invite carol"
api POST /api/auth/accept-invite "$(jq -nc --arg t "$(jq -r .invite_token <<<"$BODY")" \
	--arg p "$PW" '{invite_token:$t,password:$p}')"
expect_status 200 "carol joins"
C_JWT=$(jq -r .token <<<"$BODY")
C_USER=$(jq -r .user.id <<<"$BODY")
api POST /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$A_JWT"
expect_status 201 "create token"
T_ID=$(jq -r .id <<<"$BODY")
T_VAL=$(jq -r .token <<<"$BODY")
api POST /api/orgs/current/invites '{"email":"dave@fc.example"}' "$A_JWT"
expect_status 201 "invite dave"
D_INVITE=$(jq -r .id <<<"$BODY")

# ---- break audit inserts ------------------------------------------------------------------------
psql_super "ALTER TABLE audit_log ADD CONSTRAINT vt_test_fail CHECK (false) NOT VALID"
counts=$(psql_super "$COUNTS_SQL")
state=$(psql_super "$STATE_SQL")
expect_eq 1 "$(psql_super "SELECT count(*) FROM pg_constraint WHERE conname = 'vt_test_fail'")" \
	"fault injected"

api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"eve@fc.example",password:$p}')"
expect_5xx "register while audit fails"
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"alice@fc.example",password:$p}')"
expect_5xx "login (right password) while audit fails"
api POST /api/auth/login '{"email":"alice@fc.example","password":"wrong password 123"}'
expect_5xx "login (wrong password: LOGIN_FAILED tenant row) while audit fails"
api POST /api/auth/login '{"email":"nobody@fc.example","password":"wrong password 123"}'
expect_5xx "login (unknown account: LOGIN_FAILED system row) while audit fails"
api POST /api/tokens '{"name":"refused","scopes":["admin"]}' "$A_JWT"
expect_5xx "token creation while audit fails"
api DELETE "/api/tokens/$T_ID" "" "$A_JWT"
expect_5xx "token revocation while audit fails"
api POST /api/orgs/current/invites '{"email":"frank@fc.example"}' "$A_JWT"
expect_5xx "invite while audit fails"
api DELETE "/api/orgs/current/invites/$D_INVITE" "" "$A_JWT"
expect_5xx "invite revocation while audit fails"
api DELETE "/api/orgs/current/members/$C_USER" "" "$A_JWT"
expect_5xx "member removal while audit fails"
api PATCH "/api/orgs/current/members/$C_USER" '{"org_role":"admin"}' "$A_JWT"
expect_5xx "role change while audit fails"

expect_eq "$counts" "$(psql_super "$COUNTS_SQL")" \
	"row counts (users orgs memberships api_tokens invites audit_log) unchanged"
expect_eq "$state" "$(psql_super "$STATE_SQL")" "no row changed"
expect_eq 0 "$(psql_super "SELECT count(*) FROM users WHERE email = 'eve@fc.example'")" \
	"no user row for the refused registration"
expect_eq 0 "$(psql_super "SELECT count(*) FROM api_tokens WHERE name = 'refused'")" \
	"no token row for the refused creation"
# What was to be revoked or removed still works; nothing refused is usable.
api GET /api/auth/me "" "$T_VAL"
expect_status 200 "the token whose revocation failed still works"
api GET /api/orgs/current/members "" "$C_JWT"
expect_status 200 "the member whose removal failed still works"
expect_jq "[.items[] | select(.user_id == \"$C_USER\") | .org_role] == [\"member\"]" \
	"carol still a plain member"
api GET /api/orgs/current/invites "" "$A_JWT"
expect_jq "[.items[].id] == [\"$D_INVITE\"]" "dave's invite still pending, frank's absent"
# The server said why, without detail, in its log.
grep -q 'audit append of USER_REGISTERED failed; the action is refused' "$VT_LOG" && pass ||
	fail "no log line for the refused registration"

# ---- repair: the same requests now succeed -------------------------------------------------------
psql_super "ALTER TABLE audit_log DROP CONSTRAINT vt_test_fail"
api POST /api/auth/register "$(jq -nc --arg p "$PW" '{email:"eve@fc.example",password:$p}')"
expect_status 201 "register after repair"
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"alice@fc.example",password:$p}')"
expect_status 200 "login after repair"
api POST /api/auth/login '{"email":"alice@fc.example","password":"wrong password 123"}'
expect_status 401 "wrong password after repair"
api POST /api/auth/login '{"email":"nobody@fc.example","password":"wrong password 123"}'
expect_status 401 "unknown account after repair"
api POST /api/tokens '{"name":"refused","scopes":["admin"]}' "$A_JWT"
expect_status 201 "token creation after repair"
NEW_TOKEN=$(jq -r .token <<<"$BODY")
api GET /api/auth/me "" "$NEW_TOKEN"
expect_status 200 "the new token works"
api DELETE "/api/tokens/$T_ID" "" "$A_JWT"
expect_status 204 "token revocation after repair"
api GET /api/auth/me "" "$T_VAL"
expect_status 401 "the revoked token fails"
api POST /api/orgs/current/invites '{"email":"frank@fc.example"}' "$A_JWT"
expect_status 201 "invite after repair"
api DELETE "/api/orgs/current/invites/$D_INVITE" "" "$A_JWT"
expect_status 204 "invite revocation after repair"
api PATCH "/api/orgs/current/members/$C_USER" '{"org_role":"admin"}' "$A_JWT"
expect_status 200 "role change after repair"
api DELETE "/api/orgs/current/members/$C_USER" "" "$A_JWT"
expect_status 204 "member removal after repair"
api GET /api/orgs/current "" "$C_JWT"
expect_status 401 "the removed member's JWT fails"

# Exactly one audit row per successful action and per failed login (2), system one included.
read -r u o m t i a <<<"$counts"
expect_eq "$((u + 1)) $((o + 1)) $m $((t + 1)) $((i + 1)) $((a + 10))" \
	"$(psql_super "$COUNTS_SQL")" "row counts after repair"
expect_eq "USER_REGISTERED LOGIN_SUCCEEDED LOGIN_FAILED LOGIN_FAILED API_TOKEN_CREATED API_TOKEN_REVOKED INVITE_CREATED INVITE_REVOKED MEMBER_ROLE_CHANGED MEMBER_REMOVED" \
	"$(psql_super "SELECT string_agg(action, ' ' ORDER BY seq) FROM (SELECT action, seq
	FROM audit_log ORDER BY seq DESC LIMIT 10) t")" "audit rows of the repaired actions"

finish
