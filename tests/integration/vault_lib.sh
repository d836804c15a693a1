# shellcheck shell=bash disable=SC2034 # the helpers set output variables for the sourcing test
# Helpers shared by the test_vault_*.sh integration tests; sourced after lib.sh. People are made
# through the real flows (register, invite + accept), tokens through POST /api/tokens, vaults and
# secrets through the vault API, so every fixture is something a client could have made.
#
#   reg alice@x.example                      → REG_TOKEN REG_USER REG_ORG
#   join "$OWNER_JWT" carol@x.example member → JOIN_TOKEN JOIN_USER (a new account)
#   mktoken "$OWNER_JWT" name '["vault:read"]' → TOK TOK_ID
#   mkvault "$JWT" name                      → VAULT_ID
#   grant "$CRED" "$VAULT" "$USER" EDITOR    (expects 200)
#   mksecret "$CRED" "$VAULT" "$BODY"        → SECRET_ID (expects 201)
#   canary                                   → a unique printable value to grep for later
#   audit_all "$JWT" [QUERY]                 → AUDIT: every matching row (all pages), one array
#   uuid_rand                                → a fresh random UUID that names nothing

PW='correct horse battery staple'

for _t in jq curl openssl base32 od; do
	command -v "$_t" >/dev/null || { echo "missing tool: $_t (run scripts/deps.sh)" >&2; exit 1; }
done
unset _t

uuid_rand() { cat /proc/sys/kernel/random/uuid; }

# canary [PREFIX]: a value that occurs nowhere unless this test put it there.
canary() { printf '%s-%s' "${1:-CANARY}" "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; }

# b32_seed: a random 160-bit TOTP seed in unpadded base32.
b32_seed() { head -c 20 /dev/urandom | base32 | tr -d '=\n'; }

# luhn_card: a random 16-digit number that passes the Luhn check (PAYMENT_CARD.number).
luhn_card() {
	local body d sum=0 i len
	body="4$(head -c 16 /dev/urandom | od -An -tu1 | tr -s ' ' '\n' | grep . |
		awk '{printf "%d", $1 % 10}' | head -c 14)"
	len=${#body}
	for ((i = len - 1; i >= 0; i--)); do
		d=${body:i:1}
		if (((len - 1 - i) % 2 == 0)); then
			d=$((d * 2))
			[ "$d" -gt 9 ] && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	printf '%s%d' "$body" $(((10 - sum % 10) % 10))
}

reg() {
	api POST /api/auth/register "$(jq -nc --arg e "$1" --arg p "$PW" '{email:$e,password:$p}')"
	expect_status 201 "register $1"
	REG_TOKEN=$(jq -r .token <<<"$BODY")
	REG_USER=$(jq -r .user.id <<<"$BODY")
	REG_ORG=$(jq -r .org.id <<<"$BODY")
}

# join OWNER_JWT EMAIL ORG_ROLE [ACCEPTOR_JWT]: invite, then accept (a new account, or with the
# given JWT an existing one); JOIN_TOKEN is a JWT in the inviting org.
join() {
	local tok
	api POST /api/orgs/current/invites "$(jq -nc --arg e "$2" --arg r "$3" '{email:$e,org_role:$r}')" "$1"
	expect_status 201 "invite $2 as $3"
	tok=$(jq -r .invite_token <<<"$BODY")
	if [ -n "${4:-}" ]; then
		api POST /api/auth/accept-invite "$(jq -nc --arg t "$tok" '{invite_token:$t}')" "$4"
	else
		api POST /api/auth/accept-invite "$(jq -nc --arg t "$tok" --arg p "$PW" \
			'{invite_token:$t,password:$p}')"
	fi
	expect_status 200 "$2 accepts the invite"
	JOIN_TOKEN=$(jq -r .token <<<"$BODY")
	JOIN_USER=$(jq -r .user.id <<<"$BODY")
}

mktoken() {
	api POST /api/tokens "$(jq -nc --arg n "$2" --argjson s "$3" '{name:$n,scopes:$s}')" "$1"
	expect_status 201 "create token $2"
	TOK=$(jq -r .token <<<"$BODY")
	TOK_ID=$(jq -r .id <<<"$BODY")
}

mkvault() {
	api POST /api/vault/vaults "$(jq -nc --arg n "$2" '{name:$n,description:"d"}')" "$1"
	expect_status 201 "create vault $2"
	VAULT_ID=$(jq -r .id <<<"$BODY")
}

grant() {
	api PUT "/api/vault/vaults/$2/members/$3" "$(jq -nc --arg r "$4" '{role:$r}')" "$1"
	expect_status 200 "grant $4 on $2 to $3"
}

mksecret() {
	api POST "/api/vault/vaults/$2/secrets" "$3" "$1"
	expect_status 201 "create secret $(jq -r .name <<<"$3")"
	SECRET_ID=$(jq -r .id <<<"$BODY")
}

# audit_all JWT [QUERY]: follows next_cursor until the end; AUDIT is one JSON array.
audit_all() {
	local cursor="" q=${2:-}
	AUDIT='[]'
	while :; do
		api GET "/api/audit?limit=500${q:+&$q}${cursor:+&cursor=$cursor}" "" "$1"
		if [ "$STATUS" != 200 ]; then
			fail "GET /api/audit?$q: HTTP $STATUS: $BODY"
			return 0
		fi
		AUDIT=$(printf '%s\n%s' "$AUDIT" "$BODY" | jq -cs '.[0] + .[1].items')
		cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
		[ -n "$cursor" ] || break
	done
}

# err_sig: code and message of an error body (request ids differ per request).
err_sig() { jq -c '{code: .error.code, message: .error.message}' <<<"$BODY" 2>/dev/null || echo "$BODY"; }

# absent WHAT NEEDLE...: none of the needles occurs in $BODY (raw bytes, case-insensitive).
absent() {
	local what=$1 leaked
	shift
	printf '%s\n' "$@" | grep -v '^$' >"$VT_TMP/needles" || true
	leaked=$(grep -oiF -f "$VT_TMP/needles" <<<"$BODY" | sort -u | cut -c1-40 | tr '\n' ' ') || true
	if [ -z "$leaked" ]; then pass; else fail "$what: leaked: $leaked in ${BODY:0:400}"; fi
}
