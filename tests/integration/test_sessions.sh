#!/usr/bin/env bash
# Server-side ends of user sessions: logout (this token), logout-all (every token issued until
# now), and a password change (which ends every other session and hands back a new token) —
# each takes effect on the very next request, is audited, and leaves API tokens alone. Also the
# CLI's logout (which ends the session on the server, not just the local file) and passwd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/totp.sh"

vt_start

PW='correct horse battery staple'
NEWPW='a brand new passphrase 42'
jb() { jq -r "$1" <<<"$BODY"; }
login() { # EMAIL PASSWORD [CODE] → $STATUS/$BODY
	api POST /api/auth/login "$(jq -nc --arg e "$1" --arg p "$2" --arg c "${3:-}" \
		'{email:$e,password:$p} + (if $c == "" then {} else {totp_code:$c} end)')"
}
me_status() { api GET /api/auth/me "" "$1"; echo "$STATUS"; }
audit_count() { # ACTION OUTCOME
	api GET "/api/audit?action=$1&limit=500" "" "$OWNER"
	jq "[.items[] | select(.outcome == \"$2\")] | length" <<<"$BODY"
}

T1=$(register_user alice@example.com "$PW")
login alice@example.com "$PW"
T2=$(jb .token)
login alice@example.com "$PW"
OWNER=$(jb .token) # a session kept for reading the audit trail until logout-all
api POST /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$OWNER"
expect_status 201 "api token"
APITOK=$(jb .token)

# --- logout: this token only -------------------------------------------------------------------
api POST /api/auth/logout "" "$T1"
expect_status 204 "logout T1"
expect_eq 401 "$(me_status "$T1")" "T1 refused on the next request"
expect_eq 200 "$(me_status "$T2")" "T2 still works"
api POST /api/auth/logout "" "$T1"
expect_status 401 "logging out a logged-out token"
api POST /api/auth/logout "" "$APITOK"
expect_status 403 "an API token is not a session"
expect_eq 1 "$(audit_count LOGOUT success)" "one LOGOUT row"
# The revocation is stored as the token's id with its expiry, never the token.
n=$(psql_super "SELECT count(*) FROM revoked_sessions WHERE position('.' in jti) = 0 AND expires_at > now()")
expect_eq 1 "$n" "one revocation row, by jti"

# --- password change ---------------------------------------------------------------------------
login alice@example.com "$PW"
T4=$(jb .token)
api POST /api/auth/password "$(jq -nc --arg c 'wrong current password' --arg n "$NEWPW" \
	'{current_password:$c,new_password:$n}')" "$T4"
expect_status 403 "wrong current password"
expect_code forbidden "wrong current password code"
expect_jq '.error.message | contains("current_password")' "message names the field"
api POST /api/auth/password "$(jq -nc --arg c "$PW" --arg n short '{current_password:$c,new_password:$n}')" "$T4"
expect_status 400 "new password too short"
expect_code validation_failed "short new password code"
expect_eq 200 "$(me_status "$T4")" "failed attempts changed nothing"
expect_eq 1 "$(audit_count PASSWORD_CHANGED failure)" "the refused attempt is audited"
sleep 1 # JWT iat has one-second resolution: issue the change in a later second than T2/T4
api POST /api/auth/password "$(jq -nc --arg c "$PW" --arg n "$NEWPW" \
	'{current_password:$c,new_password:$n}')" "$T4"
expect_status 200 "password changed"
T6=$(jb .token)
expect_eq 401 "$(me_status "$T4")" "the session that changed it got a new token; the old one ends"
expect_eq 401 "$(me_status "$T2")" "every other session ends"
expect_eq 200 "$(me_status "$T6")" "the new token works"
api GET /api/audit "" "$APITOK"
expect_status 200 "API tokens are not affected"
login alice@example.com "$PW"
expect_status 401 "the old password no longer logs in"
login alice@example.com "$NEWPW"
expect_status 200 "the new password logs in"
OWNER=$(jb .token)
expect_eq 1 "$(audit_count PASSWORD_CHANGED success)" "PASSWORD_CHANGED row"
api GET /api/audit?action=PASSWORD_CHANGED "" "$OWNER"
if grep -qF -- "$NEWPW" <<<"$BODY" || grep -qF -- "$NEWPW" "$VT_LOG"; then
	fail "the new password appears in the audit trail or the log"
else pass; fi

# --- MFA: a stolen session plus the password are not enough -----------------------------------
api POST /api/auth/totp/enroll "" "$OWNER"
expect_status 200 "enroll"
SEED=$(jb .secret_base32)
totp_settle
n=$(totp_step)
api POST /api/auth/totp/confirm "{\"code\":\"$(totp "$SEED" $((n - 1)))\"}" "$OWNER"
expect_status 204 "confirm"
api POST /api/auth/password "$(jq -nc --arg c "$NEWPW" --arg n "$PW" \
	'{current_password:$c,new_password:$n}')" "$OWNER"
expect_status 403 "password change without a TOTP code"
expect_code mfa_required "mfa_required"
sleep 1
api POST /api/auth/password "$(jq -nc --arg c "$NEWPW" --arg n "$PW" --arg t "$(totp "$SEED" "$n")" \
	'{current_password:$c,new_password:$n,totp_code:$t}')" "$OWNER"
expect_status 200 "password change with the TOTP code"
OWNER=$(jb .token)

# --- logout-all --------------------------------------------------------------------------------
login alice@example.com "$PW" "$(totp "$SEED" $((n + 1)))"
if [ "$STATUS" != 200 ]; then
	totp_settle
	login alice@example.com "$PW" "$(totp "$SEED" "$(totp_step)")"
fi
expect_status 200 "login again"
T7=$(jb .token)
sleep 1
api POST /api/auth/logout-all "" "$T7"
expect_status 204 "logout-all"
expect_eq 401 "$(me_status "$T7")" "the caller's session ends"
expect_eq 401 "$(me_status "$OWNER")" "every session ends"
api GET /api/audit?action=SESSIONS_REVOKED "" "$APITOK"
expect_jq '.items | length == 1' "SESSIONS_REVOKED row"

# --- the CLI -----------------------------------------------------------------------------------
CLI_DIR=$VT_TMP/cli-bob
export VAULTTERM_CONFIG_DIR=$CLI_DIR
printf '%s\n' "$PW" | vt register --email bob@example.com --password-stdin >/dev/null
BOB=$(cat "$CLI_DIR/token")
expect_eq 200 "$(me_status "$BOB")" "CLI token works"
sleep 1
printf '%s\n%s\n' "$PW" "$NEWPW" | vt passwd --password-stdin >/dev/null && pass || fail "vt passwd"
expect_eq 401 "$(me_status "$BOB")" "passwd ended the old CLI session"
BOB2=$(cat "$CLI_DIR/token")
expect_eq 200 "$(me_status "$BOB2")" "passwd saved a working token"
vt logout >/dev/null && pass || fail "vt logout"
[ -e "$CLI_DIR/token" ] && fail "logout left the token file" || pass
expect_eq 401 "$(me_status "$BOB2")" "CLI logout ended the session on the server"
vt logout >/dev/null && pass || fail "logout without a token is fine"
rc=0
vt logout --all >/dev/null 2>&1 || rc=$?
expect_eq 4 "$rc" "logout --all without a token: not logged in (exit 4)"
# VAULTTERM_TOKEN: logout ends that session and leaves the saved file (another session) alone.
printf '%s\n' "$NEWPW" | vt login --email bob@example.com --password-stdin >/dev/null
FILE_TOK=$(cat "$CLI_DIR/token")
login bob@example.com "$NEWPW"
ENV_TOK=$(jb .token)
VAULTTERM_TOKEN=$ENV_TOK vt logout >/dev/null 2>&1 && pass || fail "logout with VAULTTERM_TOKEN"
expect_eq 401 "$(me_status "$ENV_TOK")" "the environment's session ended"
[ -f "$CLI_DIR/token" ] && pass || fail "the saved token file was deleted"
expect_eq 200 "$(me_status "$FILE_TOK")" "the saved session is untouched"
# A wrong TOTP code on a password change is recorded as mfa_invalid, a missing one as mfa_required.
api GET "/api/audit?action=PASSWORD_CHANGED&limit=500" "" "$APITOK"
expect_jq '[.items[] | select(.outcome == "failure") | .detail.reason] | index("mfa_required") != null' "mfa_required recorded"
finish
