#!/usr/bin/env bash
# The real CLI against a real server: --help everywhere, the documented exit codes (0 ok, 1 the
# server refused, 2 usage, 3 unreachable/local, 4 not authenticated), the 0600 token file, JSON
# and table output, API tokens shown once, invites, MFA with --totp, audit, and that no secret
# (password, JWT, API token) is echoed where it should not be.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/totp.sh"

command -v ss >/dev/null || { echo "missing tool: ss (iproute2)" >&2; exit 1; }

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
out_jq() { if jq -e "$1" <<<"$OUT" >/dev/null 2>&1; then pass; else fail "$2: '$1' not true on: $OUT"; fi; }

# --- help and usage errors (no server needed) --------------------------------------------------

cli 0 "top-level --help" --help
out_has '^usage: vaultterm <command>' "top-level usage"
for c in server migrate register login logout whoami org token mfa audit version help; do
	out_has "^  $c " "command list names $c"
done
cli 0 "-h" -h
out_has '^usage: vaultterm' "-h usage"
for c in server migrate register login logout whoami org token mfa audit version help; do
	cli 0 "$c --help" "$c" --help
	out_has "^usage: vaultterm $c" "$c --help prints its usage"
done
for sub in "org members" "org invite" "org accept" "token create" "token ls" "token revoke" \
	"audit ls" "audit events" "mfa enroll"; do
	# shellcheck disable=SC2086
	cli 0 "$sub --help" $sub --help
	out_has '^usage: vaultterm' "$sub --help prints usage"
done
cli 0 "-help single dash" whoami -help
out_has '^usage: vaultterm whoami' "-help usage"

cli 2 "no command"
err_has 'usage: vaultterm' "no command prints usage on stderr"
cli 2 "unknown command" frobnicate
err_has "unknown command 'frobnicate'" "unknown command message"
cli 2 "unknown option" whoami --bogus
err_has "unknown option '--bogus'" "unknown option message"
cli 2 "unknown option (token)" token ls --frob=1
cli 2 "unknown token subcommand" token frob
cli 2 "unknown org subcommand" org frob
cli 2 "org without subcommand" org
cli 2 "unknown audit subcommand" audit frob
cli 2 "unknown mfa subcommand" mfa frob
cli 2 "bad -format" whoami -format=xml
err_has 'format' "bad -format message"
cli 2 "register without --email" register --password-stdin
cli 2 "login without --email" login
cli 2 "token create without --scope" token create --name x
cli 2 "token create with a bad --ttl" token create --name x --scope audit:read --ttl 10s
cli 2 "token revoke without id" token revoke
cli 2 "org invite without --email" org invite
cli 2 "option missing its value" register --email
cli 2 "flag given a value" register --email a@example.com --password-stdin=yes
cli 2 "version with an argument" version extra
cli 2 "help with an argument" help extra
cli 0 "version" version
out_has "^vaultterm [0-9]+\.[0-9]+\.[0-9]+$" "version output"
cli 2 "server with an unknown argument" server --frob

# --- not logged in, unreachable --------------------------------------------------------------------

# A port nothing listens on (connection refused) → 3, even before a server runs.
CLOSED=""
for p in 1 9 47 79 111 3 5 7; do
	if [ -z "$(ss -Hltn "( sport = :$p )" 2>/dev/null)" ]; then CLOSED=$p; break; fi
done
[ -n "$CLOSED" ] || { echo "no closed low port found" >&2; exit 1; }
export VAULTTERM_ADDR=http://127.0.0.1:$CLOSED
cli 4 "whoami with no token at all" whoami
err_has 'not logged in' "no-token message"
CLI_IN=$PW cli 3 "register against a closed port" register --email x@example.com --password-stdin
err_has "cannot reach http://127.0.0.1:$CLOSED" "unreachable message names the address"
VAULTTERM_TOKEN=vt_nothing cli 3 "whoami against a closed port" whoami
[ ! -e "$VAULTTERM_CONFIG_DIR/token" ] && pass || fail "a failed register must not save a token"

vt_start # exports VAULTTERM_ADDR

# --- register, whoami, token file -----------------------------------------------------------------

CLI_IN=$PW cli 0 "register --password-stdin" register --email Owner@Example.com --name Owner --password-stdin
out_has '^Registered owner@example.com \(org .*\)\. Token saved\.$' "register output"
TOKFILE=$VAULTTERM_CONFIG_DIR/token
expect_eq 600 "$(stat -c %a "$TOKFILE" 2>/dev/null)" "token file mode"
expect_eq 700 "$(stat -c %a "$VAULTTERM_CONFIG_DIR" 2>/dev/null)" "config dir mode"
OWNER_JWT=$(head -n1 "$TOKFILE")
out_lacks "$OWNER_JWT" "register does not print the token"
api GET /api/auth/me "" "$OWNER_JWT"
expect_status 200 "the saved token works"
expect_jq '.user.email == "owner@example.com" and .org_role == "owner"' "saved token is the owner's"
OWNER_ID=$(jq -r .user.id <<<"$BODY")
ORG_ID=$(jq -r .org.id <<<"$BODY")

CLI_IN=$PW cli 1 "register the same e-mail again (409)" register --email owner@example.com --password-stdin
err_has 'conflict, HTTP 409' "409 message"
CLI_IN=short cli 1 "register with a short password (400)" register --email s@example.com --password-stdin
err_has "password.*validation_failed, HTTP 400" "400 message names the field"
cli 2 "register with empty stdin" register --email e@example.com --password-stdin

cli 0 "whoami (table)" whoami
out_has '^User +owner@example.com$' "whoami user line"
out_has "^Org id +$ORG_ID$" "whoami org id"
out_has '^Role +owner$' "whoami role"
out_has '^MFA +false$' "whoami mfa"
cli 0 "whoami -format=json" whoami -format=json
out_jq ".user.email == \"owner@example.com\" and .user.id == \"$OWNER_ID\" and .org.id == \"$ORG_ID\" and .org_role == \"owner\"" "whoami json"
cli 0 "whoami --format json" whoami --format json
out_jq '.org_role == "owner"' "whoami --format json (separate value)"

# --- login / logout ---------------------------------------------------------------------------------

CLI_IN="wrong password!!" cli 4 "login with a wrong password (401)" login --email owner@example.com --password-stdin
err_has 'unauthorized, HTTP 401' "401 message"
expect_eq "$OWNER_JWT" "$(head -n1 "$TOKFILE")" "a failed login keeps the saved token"
CLI_IN="$PW" cli 4 "login with an unknown e-mail (401)" login --email ghost@example.com --password-stdin
cli 0 "logout" logout
out_has '^Logged out\.$' "logout output"
[ ! -e "$TOKFILE" ] && pass || fail "logout did not remove the token file"
cli 4 "whoami after logout" whoami
err_has 'not logged in' "whoami after logout message"
cli 0 "logout twice" logout
CLI_IN=$PW cli 0 "login" login --email owner@example.com --password-stdin -format=json
out_jq '.user.email == "owner@example.com" and (has("token") | not)' "login json omits the token"
expect_eq 600 "$(stat -c %a "$TOKFILE" 2>/dev/null)" "token file mode after login"
OWNER_JWT=$(head -n1 "$TOKFILE")
echo "not-a-token" >"$TOKFILE"
cli 4 "whoami with a garbage saved token (401)" whoami
CLI_IN=$PW cli 0 "login again" login --email owner@example.com --password-stdin
out_has '^Logged in as owner@example.com ' "login table output"

# --- API tokens -------------------------------------------------------------------------------------

cli 0 "token create" token create --name ci --scope audit:read
out_has '^Created token [0-9a-f-]{36} \(ci\)\. Copy it now' "token create output"
CI_TOKEN=$(grep -oE '^vt_[A-Za-z0-9_-]{43}$' <<<"$OUT" || true)
[ -n "$CI_TOKEN" ] && pass || fail "token create did not print a vt_ token: $OUT"
expect_eq 1 "$(grep -cF -- "$CI_TOKEN" <<<"$OUT")" "the token is printed exactly once"
CI_ID=$(grep -oE '[0-9a-f-]{36}' <<<"$OUT" | head -n1)
cli 0 "token create (json, several scopes, ttl)" token create --name deploy --scope vault:read,vault:write --scope audit:read --ttl 90m -format=json
out_jq '(.token | startswith("vt_")) and .scopes == ["vault:read","vault:write","audit:read"] and (.expires_at | type == "string")' "token create json"
DEPLOY_TOKEN=$(jq -r .token <<<"$OUT")
cli 1 "token create with an unknown scope (400)" token create --name bad --scope root
err_has 'scopes' "unknown scope message"

cli 0 "token ls (json)" token ls -format=json
out_jq "any(.items[]; .id == \"$CI_ID\" and .name == \"ci\") and all(.items[]; has(\"token\") | not)" "token ls json"
out_lacks "$CI_TOKEN" "token ls json has no token value"
out_lacks "$DEPLOY_TOKEN" "token ls json has no token value (2)"
cli 0 "token ls (table)" token ls
out_has '^ID +NAME +SCOPES' "token ls header"
out_has "^$CI_ID +ci +audit:read " "token ls row"
out_lacks "$CI_TOKEN" "token ls table has no token value"

VAULTTERM_TOKEN=$CI_TOKEN cli 0 "whoami with VAULTTERM_TOKEN=<api token>" whoami
out_has '^Token +ci$' "whoami shows the token name"
out_has '^Scopes +audit:read$' "whoami shows the scopes"
out_has "^Org id +$ORG_ID$" "whoami shows the token's org"
VAULTTERM_TOKEN=$CI_TOKEN cli 0 "whoami json with an API token" whoami -format=json
out_jq ".token.id == \"$CI_ID\" and .user == null" "whoami json token"
VAULTTERM_TOKEN=$CI_TOKEN cli 0 "audit ls with an audit:read token" audit ls --limit 5
VAULTTERM_TOKEN=$CI_TOKEN cli 1 "a token cannot create tokens (403)" token create --name x --scope audit:read
err_has 'forbidden, HTTP 403' "token create by a token"

cli 0 "token revoke" token revoke "$CI_ID"
out_has '^Token revoked\.$' "revoke output"
VAULTTERM_TOKEN=$CI_TOKEN cli 4 "revoked token is refused at once (401)" whoami
err_has 'HTTP 401' "revoked token message"
cli 1 "revoke an unknown id (404)" token revoke "$(cat /proc/sys/kernel/random/uuid)"
err_has 'not_found, HTTP 404' "404 message"
cli 1 "revoke a malformed id (400)" token revoke not-a-uuid

# --- org invite / accept / members ----------------------------------------------------------------

cli 0 "org invite" org invite --email Member@Example.com
out_has '^Invited member@example.com as member ' "invite output"
out_has '^  link: +http://localhost:[0-9]+/invite#token=vti_[A-Za-z0-9_-]{43}$' "invite prints the link with the token in the fragment"
INV=$(grep -oE 'vti_[A-Za-z0-9_-]{43}' <<<"$OUT" | head -n1)
cli 0 "org invite (json, admin)" org invite --email adm@example.com --role admin -format=json
out_jq '.org_role == "admin" and (.invite_url | test("#token=vti_"))' "invite json"
ADM_INV=$(jq -r .invite_token <<<"$OUT")
cli 1 "org invite with an unknown role (400)" org invite --email x@example.com --role king

# "-" reads the invite token from stdin (first line), then the password (next line): no secret
# in argv.
A_DIR=$VT_TMP/cli-adm
CLI_IN=$ADM_INV$'\n'$PW VAULTTERM_CONFIG_DIR=$A_DIR cli 0 "org accept - (token from stdin)" org accept - --password-stdin
out_has '^Joined .* as admin\. Token saved\.$' "accept - output"
CLI_IN="" VAULTTERM_CONFIG_DIR=$A_DIR cli 2 "org accept - with empty stdin" org accept - --password-stdin

M_DIR=$VT_TMP/cli-member
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "org accept --password-stdin (new account)" org accept "$INV" --name Mem --password-stdin
out_has '^Joined .* as member\. Token saved\.$' "accept output"
expect_eq "" "$ERR" "accepting as a new account prints no error"
expect_eq 600 "$(stat -c %a "$M_DIR/token" 2>/dev/null)" "member token file mode"
VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "member whoami" whoami -format=json
out_jq ".user.email == \"member@example.com\" and .org.id == \"$ORG_ID\" and .org_role == \"member\"" "member is in the owner's org"
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$VT_TMP/cli-other cli 1 "accepting a used invite (404)" org accept "$INV" --password-stdin
err_has 'not_found, HTTP 404' "used invite message"

# An existing account (its own org) accepts while logged in, then switches between its orgs.
E_DIR=$VT_TMP/cli-ext
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$E_DIR cli 0 "register ext" register --email ext@example.com --password-stdin
cli 0 "org invite ext" org invite --email ext@example.com -format=json
EXT_INV=$(jq -r .invite_token <<<"$OUT")
VAULTTERM_CONFIG_DIR=$E_DIR cli 0 "org accept while logged in" org accept "$EXT_INV"
out_has '^Joined .* as member\. Token saved\.$' "existing account accept output"
VAULTTERM_CONFIG_DIR=$E_DIR cli 0 "ext whoami" whoami -format=json
out_jq "(.orgs | length) == 2 and .org.id == \"$ORG_ID\"" "ext is in two orgs, active the new one"
EXT_OWN=$(jq -r ".orgs[] | select(.id != \"$ORG_ID\") | .id" <<<"$OUT")
VAULTTERM_CONFIG_DIR=$E_DIR cli 0 "org switch" org switch "$EXT_OWN"
out_has '^Switched to .*\. Token saved\.$' "switch output"
VAULTTERM_CONFIG_DIR=$E_DIR cli 0 "whoami after switch" whoami
out_has "^Org id +$EXT_OWN$" "switched org is active"
out_has '^Organizations:$' "whoami lists several orgs"
VAULTTERM_CONFIG_DIR=$E_DIR cli 1 "org switch to a foreign org (404)" org switch "$(cat /proc/sys/kernel/random/uuid)"

cli 0 "org members" org members
out_has '^USER ID +EMAIL ' "members header"
out_has "^$OWNER_ID +owner@example.com +Owner +owner " "members lists the owner"
out_has ' member@example.com +Mem +member ' "members lists the member"
cli 0 "org members json" org members -format=json
out_jq '(.items | length) == 4' "four members (owner, member, admin, ext)"

VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "member runs token create (403)" token create --name x --scope audit:read
err_has 'forbidden, HTTP 403' "403 message"
VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "member runs org invite (403)" org invite --email y@example.com
VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "member runs audit ls (403)" audit ls

# --- MFA through the CLI -----------------------------------------------------------------------------

VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "mfa enroll" mfa enroll -format=json
out_jq '(.secret_base32 | test("^[A-Z2-7]{32}$")) and (.otpauth_uri | startswith("otpauth://totp/"))' "mfa enroll json"
SEED=$(jq -r .secret_base32 <<<"$OUT")
totp_settle
n=$(totp_step)
VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "mfa confirm with a wrong code (400)" mfa confirm "$(totp "$SEED" $((n + 10)))"
VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "mfa confirm" mfa confirm "$(totp "$SEED" $((n - 1)))"
out_has '^MFA enabled\.$' "mfa confirm output"
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "login without --totp when MFA is on (403)" login --email member@example.com --password-stdin
err_has 'mfa_required, HTTP 403' "mfa_required message"
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "login --totp" login --email member@example.com --password-stdin --totp "$(totp "$SEED" "$n")"
CLI_IN=$PW VAULTTERM_CONFIG_DIR=$M_DIR cli 1 "login replaying the code (403)" login --email member@example.com --password-stdin --totp "$(totp "$SEED" "$n")"
VAULTTERM_CONFIG_DIR=$M_DIR cli 0 "mfa disable" mfa disable "$(totp "$SEED" $((n + 1)))"
out_has '^MFA disabled\.$' "mfa disable output"

# --- audit -------------------------------------------------------------------------------------------

cli 0 "audit ls" audit ls --limit 500
out_has '^TIME +ACTION +ACTOR ' "audit ls header"
for a in USER_REGISTERED LOGIN_SUCCEEDED LOGIN_FAILED API_TOKEN_CREATED API_TOKEN_REVOKED INVITE_CREATED INVITE_ACCEPTED MFA_ENABLED MFA_DISABLED; do
	out_has " $a " "audit ls shows $a"
done
cli 0 "audit ls --action (json)" audit ls --action LOGIN_FAILED -format=json
out_jq '(.items | length) >= 1 and all(.items[]; .action == "LOGIN_FAILED")' "audit action filter"
cli 0 "audit ls --limit 2 (page 1)" audit ls --limit 2 -format=json
P1=$OUT
C1=$(jq -r .next_cursor <<<"$P1")
cli 0 "audit ls --cursor (page 2)" audit ls --limit 2 --cursor "$C1" -format=json
if [ "$C1" != null ] && [ "$(jq -s '[.[0].items[].id] - [.[1].items[].id] | length' <<<"$P1$OUT")" = 2 ] &&
	[ "$(jq '.items | length' <<<"$OUT")" = 2 ]; then pass; else
	fail "audit --cursor did not resume after page 1: $P1 / $OUT"
fi
# A trailing slash in VAULTTERM_ADDR names the same server.
VAULTTERM_ADDR=$VT_ADDR/ cli 0 "VAULTTERM_ADDR with a trailing slash" whoami
cli 0 "audit ls --limit 2 --all" audit ls --limit 2 --all -format=json
out_jq '(.items | length) > 10 and .next_cursor == null and ([.items[].id] | length == (unique | length))' "audit --all follows the cursor"
cli 0 "audit events" audit events --from "$(date -u +%F)" -format=json
out_jq 'any(.events[]; .action == "USER_REGISTERED" and .title == "User registered")' "audit events"
cli 1 "audit ls with a bad action (400)" audit ls --action 'x y'
cli 0 "whole audit (json)" audit ls --limit 500 -format=json
for s in "$CI_TOKEN" "$DEPLOY_TOKEN" "$INV" "$PW" "$SEED"; do out_lacks "$s" "audit holds no secret"; done

# --- nothing secret in argv-visible places or the log --------------------------------------------------

for s in "$CI_TOKEN" "$DEPLOY_TOKEN" "$INV" "$PW" "$OWNER_JWT" "$SEED"; do
	if grep -qF -- "$s" "$VT_LOG"; then fail "a secret value appears in the server log"; else pass; fi
done

finish
