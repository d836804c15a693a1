#!/usr/bin/env bash
# Vault tenant isolation, attacked from org B. Org A: owner alice, member carol (EDITOR on one
# vault, VIEWER on the other), a vault:read+vault:write token; two vaults holding secrets of all
# nine types. Org B: owner bob, member erin (EDITOR on B's vault), a vault:read+vault:write token,
# and carol again (she joins B too, so she acts in B while holding real roles in A's vaults).
# Proves that
#  - every vault and secret endpoint answers B's users (carol-in-B included) and B's token with
#    404 not_found for A's ids, with the same code and message as for a random UUID (no
#    existence oracle: also for a TOTP code of a non-TOTP secret, a write whose body does not fit
#    the secret's type, upper-case ids, granting oneself a role in A's vault, ...), and the
#    answer names nothing of A;
#  - no list B can call (vaults, B's own vault's secrets and members, B's audit and events) names
#    any of A's ids, names or values, while B's own objects are listed (positive control); B may
#    reuse A's vault and secret names (no cross-org conflict oracle);
#  - A's owner cannot grant a role in A's vault to a user of B (404: not a member of this org),
#    nor can bob grant one in B's vault to A's owner; removing carol from B drops her B vault role
#    and leaves her A roles alone;
#  - afterwards A's vaults, members and secrets are unchanged: the API shows the same objects,
#    reveal as alice returns the same values and versions, the rows of org A in vaults,
#    vault_members, secrets and secret_versions hash to the same digest, and A's audit trail has
#    no row acted by B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

vt_start

# ---- org A ---------------------------------------------------------------------------------------
reg alice@vi.example
A_JWT=$REG_TOKEN A_USER=$REG_USER A_ORG=$REG_ORG
join "$A_JWT" carol@vi.example member
C_JWT=$JOIN_TOKEN C_USER=$JOIN_USER
mktoken "$A_JWT" a-vault-rw '["vault:read","vault:write"]'
A_TOK=$TOK A_TOK_ID=$TOK_ID
mkvault "$A_JWT" a-vault-ops
AV1=$VAULT_ID
mkvault "$A_JWT" a-vault-pay
AV2=$VAULT_ID
grant "$A_JWT" "$AV1" "$C_USER" EDITOR
grant "$A_JWT" "$AV2" "$C_USER" VIEWER

ssh-keygen -q -t ed25519 -N '' -C a-deploy@vi.example -f "$VT_TMP/a_key"
SSH_PRIV=$(cat "$VT_TMP/a_key")
SSH_PUB=$(cat "$VT_TMP/a_key.pub")
SSH_PRIV_LINE=$(sed -n 2p "$VT_TMP/a_key") # a line of key material, to grep for
TOTP_SEED=$(b32_seed)
CARD=$(luhn_card)
CANARIES=()
for _ in $(seq 1 9); do CANARIES+=("$(canary AVAL)"); done
CANARIES+=("$SSH_PRIV_LINE" "$TOTP_SEED" "$CARD")

# name vault type fields-json
SPECS=(
	"a-db-password|$AV1|PASSWORD|$(jq -nc --arg p "${CANARIES[0]}" --arg n "${CANARIES[1]}" \
		'{password:$p,username:"svc",url:"https://db.a.example",notes:$n}')"
	"a-stripe-key|$AV1|API_KEY|$(jq -nc --arg k "${CANARIES[2]}" '{key:$k,service:"stripe"}')"
	"a-deploy-key|$AV1|SSH_KEY|$(jq -nc --arg k "$SSH_PRIV" --arg p "$SSH_PUB" \
		'{private_key:$k,public_key:$p}')"
	"a-totp|$AV1|TOTP|$(jq -nc --arg s "$TOTP_SEED" '{seed:$s,issuer:"A",account:"alice"}')"
	"a-env|$AV2|ENV_VAR|$(jq -nc --arg v "${CANARIES[3]}" '{name:"A_TOKEN",value:$v}')"
	"a-note|$AV2|SECURE_NOTE|$(jq -nc --arg b "${CANARIES[4]}" '{body:$b,title:"runbook"}')"
	"a-card|$AV2|PAYMENT_CARD|$(jq -nc --arg n "$CARD" \
		'{number:$n,cardholder:"Alice A",expiry:"12/30",cvv:"123"}')"
	"a-identity|$AV2|IDENTITY|$(jq -nc --arg d "${CANARIES[5]}" '{name:"Alice A",document_number:$d}')"
	"a-passkey|$AV2|PASSKEY|$(jq -nc --arg c "${CANARIES[6]}" --arg k "${CANARIES[7]}" \
		'{rp_id:"a.example",credential_id:$c,private_key:$k,user_handle:"alice"}')"
)
declare -A A_FIELDS A_TYPE
A_SECRETS=()
A_NAMES=(a-vault-ops a-vault-pay)
for spec in "${SPECS[@]}"; do
	IFS='|' read -r name vault type fields <<<"$spec"
	mksecret "$A_JWT" "$vault" "$(jq -nc --arg t "$type" --arg n "$name" --argjson f "$fields" \
		'{type:$t,name:$n,fields:$f,tags:["team-a"]}')"
	A_SECRETS+=("$SECRET_ID")
	A_FIELDS[$SECRET_ID]=$fields
	A_TYPE[$SECRET_ID]=$type
	A_NAMES+=("$name")
done
# carol (EDITOR) wrote one of them: a second version and a second author.
api PUT "/api/vault/secrets/${A_SECRETS[1]}" "$(jq -nc --arg k "${CANARIES[8]}" \
	'{fields:{key:$k,service:"stripe"},cas:1}')" "$C_JWT"
expect_status 200 "carol updates a-stripe-key"
A_FIELDS[${A_SECRETS[1]}]=$(jq -nc --arg k "${CANARIES[8]}" '{key:$k,service:"stripe"}')
A_TOTP=${A_SECRETS[3]}
# Everything of A that B must never see (carol's id and e-mail are left out: she joins B below,
# so B legitimately lists her as a member of B).
A_IDS=("$A_ORG" "$A_USER" "$A_TOK_ID" "$AV1" "$AV2" "${A_SECRETS[@]}" "${A_NAMES[@]}"
	alice@vi.example a-vault-rw team-a "${CANARIES[@]}")

# A's view and A's rows before anything from B.
a_snapshot() {
	local out="" v s
	api GET /api/vault/vaults "" "$A_JWT"
	out+="$(jq -cS . <<<"$BODY")"
	for v in "$AV1" "$AV2"; do
		api GET "/api/vault/vaults/$v" "" "$A_JWT"
		out+="$STATUS $(jq -cS . <<<"$BODY")"
		api GET "/api/vault/vaults/$v/members" "" "$A_JWT"
		out+="$STATUS $(jq -cS . <<<"$BODY")"
		api GET "/api/vault/vaults/$v/secrets" "" "$A_JWT"
		out+="$STATUS $(jq -cS . <<<"$BODY")"
	done
	for s in "${A_SECRETS[@]}"; do
		api GET "/api/vault/secrets/$s" "" "$A_JWT"
		out+="$STATUS $(jq -cS . <<<"$BODY")"
	done
	printf '%s' "$out" | sha256sum | cut -d' ' -f1
}
a_digest() {
	psql_super "SELECT md5(coalesce((SELECT string_agg(t, '|' ORDER BY t) FROM (
		SELECT 'v' || row_to_json(v)::text AS t FROM vaults v WHERE org_id = '$A_ORG'
		UNION ALL SELECT 'm' || row_to_json(m)::text FROM vault_members m WHERE org_id = '$A_ORG'
		UNION ALL SELECT 's' || row_to_json(s)::text FROM secrets s WHERE org_id = '$A_ORG'
		UNION ALL SELECT 'x' || row_to_json(x)::text FROM secret_versions x
			WHERE org_id = '$A_ORG') q), ''))"
}
A_VIEW_BEFORE=$(a_snapshot)
A_DB_BEFORE=$(a_digest)
expect_eq 9 "$(psql_super "SELECT count(*) FROM secrets WHERE org_id = '$A_ORG'")" "A has 9 secrets"
expect_eq 10 "$(psql_super "SELECT count(*) FROM secret_versions WHERE org_id = '$A_ORG'")" \
	"A has 10 secret versions"

# ---- org B ---------------------------------------------------------------------------------------
reg bob@vi.example
B_JWT=$REG_TOKEN B_USER=$REG_USER B_ORG=$REG_ORG
join "$B_JWT" erin@vi.example member
E_JWT=$JOIN_TOKEN E_USER=$JOIN_USER
mktoken "$B_JWT" b-vault-rw '["vault:read","vault:write"]'
B_TOK=$TOK B_TOK_ID=$TOK_ID
mkvault "$B_JWT" b-vault
BV=$VAULT_ID
grant "$B_JWT" "$BV" "$E_USER" EDITOR
mksecret "$B_JWT" "$BV" '{"type":"PASSWORD","name":"b-secret","fields":{"password":"b-pw"}}'
BS=$SECRET_ID

# carol belongs to both orgs: in B (her B JWT) she holds a role in B's vault, and she still
# holds real roles on A's vaults. Acting in B she must get exactly what any B user gets for A's ids.
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"carol@vi.example",password:$p}')"
expect_status 200 "carol logs in"
join "$B_JWT" carol@vi.example member "$(jq -r .token <<<"$BODY")"
CB_JWT=$JOIN_TOKEN
expect_eq "$C_USER" "$JOIN_USER" "carol in B is the same user"
api GET /api/auth/me "" "$CB_JWT"
expect_jq ".org.id == \"$B_ORG\"" "carol's second JWT acts in B"
grant "$B_JWT" "$BV" "$C_USER" VIEWER

ATTACKERS=(bob erin b-token carol-in-b)
declare -A CRED=([bob]=$B_JWT [erin]=$E_JWT [b-token]=$B_TOK [carol-in-b]=$CB_JWT)
declare -A SELF=([bob]=$B_USER [erin]=$E_USER [b-token]=$B_USER [carol-in-b]=$C_USER)

# attack WHO METHOD PATH BODY: PATH and BODY name A's objects as @V@ (vault), @S@ (secret) and
# @U@ (user), and the attacker as @ME@. The answer must be 404 not_found, the same code and
# message as with a random UUID in place of A's ids, and name nothing of A. (One jq and one grep
# per answer: this runs ~800 requests.)
attack() {
	local who=$1 method=$2 path=$3 body=$4 cp cb ref got r leaked
	local what="$who $method $path [V=${V:0:8} S=${S:0:8} U=${U:0:8}]"
	cp=${path//@ME@/${SELF[$who]}}
	cb=${body//@ME@/${SELF[$who]}}
	r=$(uuid_rand)
	api "$method" "$(sed "s/@[VSU]@/$r/g" <<<"$cp")" "$cb" "${CRED[$who]}"
	ref="$STATUS $(jq -r '"\(.error.code) \(.error.message)"' <<<"$BODY" 2>&1)"
	if [[ $ref == "404 not_found "* ]]; then pass; else fail "$what (random id, control): $ref"; fi
	cp=${cp//@V@/$V}
	cp=${cp//@S@/$S}
	api "$method" "${cp//@U@/$U}" "$cb" "${CRED[$who]}"
	got="$STATUS $(jq -r '"\(.error.code) \(.error.message)"' <<<"$BODY" 2>&1)"
	expect_eq "$ref" "$got" "$what: the answer for a random id"
	leaked=$(grep -oiF -f "$VT_TMP/a_needles" <<<"$BODY" | head -n 3 | tr '\n' ' ') || true
	if [ -z "$leaked" ]; then pass; else fail "$what: leaked $leaked"; fi
}
printf '%s\n' "${A_IDS[@]}" >"$VT_TMP/a_needles"

PW_BODY='{"type":"PASSWORD","name":"planted","fields":{"password":"planted-pw"}}'
for who in "${ATTACKERS[@]}"; do
	for V in "$AV1" "$AV2"; do
		S="" U=$C_USER
		attack "$who" GET /api/vault/vaults/@V@ ""
		attack "$who" PATCH /api/vault/vaults/@V@ '{"name":"pwned","description":"x"}'
		attack "$who" DELETE /api/vault/vaults/@V@ ""
		attack "$who" GET /api/vault/vaults/@V@/members ""
		attack "$who" GET /api/vault/vaults/@V@/secrets ""
		attack "$who" GET "/api/vault/vaults/@V@/secrets?limit=500&cursor=00000000-0000-0000-0000-000000000000" ""
		attack "$who" POST /api/vault/vaults/@V@/secrets "$PW_BODY"
		for U in "$A_USER" "$C_USER"; do
			attack "$who" PUT /api/vault/vaults/@V@/members/@U@ '{"role":"VIEWER"}'
			attack "$who" DELETE /api/vault/vaults/@V@/members/@U@ ""
		done
		# Granting oneself a role in A's vault.
		attack "$who" PUT /api/vault/vaults/@V@/members/@ME@ '{"role":"OWNER"}'
		attack "$who" DELETE /api/vault/vaults/@V@/members/@ME@ ""
	done
	V="" U=""
	for S in "${A_SECRETS[@]}"; do
		attack "$who" GET /api/vault/secrets/@S@ ""
		# Bodies valid for some types only: validation must not run before the lookup.
		attack "$who" PUT /api/vault/secrets/@S@ '{"fields":{"password":"pwned"},"cas":1}'
		attack "$who" PUT /api/vault/secrets/@S@ '{"fields":{"password":"pwned"},"inject_only":false}'
		attack "$who" DELETE /api/vault/secrets/@S@ ""
		attack "$who" POST /api/vault/secrets/@S@/reveal '{"reason":"audit"}'
		attack "$who" POST /api/vault/secrets/@S@/reveal ""
		attack "$who" POST /api/vault/secrets/@S@/totp ""
	done
	# Upper-case spelling of A's ids names the same objects: still nothing.
	V=${AV1^^} S=${A_TOTP^^} U=${C_USER^^}
	attack "$who" GET /api/vault/vaults/@V@ ""
	attack "$who" POST /api/vault/secrets/@S@/totp ""
	attack "$who" POST /api/vault/secrets/@S@/reveal ""
done

# bob manages his own vault's members, naming A's owner: the same answer as for a random user.
U=$A_USER
for m in PUT DELETE; do
	api "$m" "/api/vault/vaults/$BV/members/$(uuid_rand)" '{"role":"VIEWER"}' "$B_JWT"
	expect_status 404 "bob $m random user on B's vault (control)"
	ref=$(err_sig)
	api "$m" "/api/vault/vaults/$BV/members/$U" '{"role":"VIEWER"}' "$B_JWT"
	expect_status 404 "bob $m A's user on B's vault"
	expect_code not_found "bob $m A's user on B's vault"
	expect_eq "$ref" "$(err_sig)" "bob $m A's user on B's vault: same as a random user"
	absent "bob $m A's user on B's vault" "${A_IDS[@]}"
done
expect_eq 0 "$(psql_super "SELECT count(*) FROM vault_members WHERE
	(org_id = '$B_ORG' AND user_id = '$A_USER') OR
	(org_id = '$A_ORG' AND user_id IN ('$B_USER', '$E_USER'))")" "no cross-org vault membership"

# ---- lists as B --------------------------------------------------------------------------------
for who in "${ATTACKERS[@]}"; do
	for path in /api/vault/vaults "/api/vault/vaults/$BV" "/api/vault/vaults/$BV/secrets" \
		"/api/vault/vaults/$BV/secrets?limit=500&cursor=00000000-0000-0000-0000-000000000000" \
		"/api/vault/vaults/$BV/members" "/api/vault/secrets/$BS"; do
		api GET "$path" "" "${CRED[$who]}"
		expect_status 200 "$who GET $path"
		absent "$who GET $path" "${A_IDS[@]}"
	done
	# Positive control: B's own objects are there, and only those.
	api GET /api/vault/vaults "" "${CRED[$who]}"
	expect_jq "[.items[].id] == [\"$BV\"]" "$who lists exactly B's vault"
	api GET "/api/vault/vaults/$BV/secrets" "" "${CRED[$who]}"
	expect_jq "[.items[].id] == [\"$BS\"]" "$who lists exactly B's secret"
	api POST "/api/vault/secrets/$BS/reveal" "" "${CRED[$who]}"
	expect_status 200 "$who reveals B's own secret"
	absent "$who reveals B's secret" "${A_IDS[@]}"
done
audit_all "$B_JWT"
BODY=$AUDIT
expect_jq 'length >= 10' "bob's audit has B's rows"
absent "bob's whole audit trail" "${A_IDS[@]}"
for q in "resource=$AV1" "resource=${A_SECRETS[0]}" "actor=$A_USER" "actor=$A_TOK_ID" \
	"action=SECRET_CREATED" "action=VAULT_CREATED" "action=SECRET_REVEALED"; do
	audit_all "$B_JWT" "$q"
	BODY=$AUDIT
	absent "bob GET /api/audit?$q" "${A_IDS[@]}"
done
api GET "/api/events/v1?from=2000-01-01&limit=500" "" "$B_JWT"
expect_status 200 "bob GET /api/events/v1"
absent "bob GET /api/events/v1" "${A_IDS[@]}"

# Names are per org: B may reuse A's vault and secret names (no conflict oracle).
api POST /api/vault/vaults '{"name":"a-vault-ops"}' "$B_JWT"
expect_status 201 "bob creates a vault named like A's"
BV2=$(jq -r .id <<<"$BODY")
api POST "/api/vault/vaults/$BV2/secrets" '{"type":"PASSWORD","name":"a-db-password","fields":{"password":"b"}}' "$B_JWT"
expect_status 201 "bob creates a secret named like A's"
api DELETE "/api/vault/vaults/$BV2" "" "$B_JWT"
expect_status 204 "bob deletes that vault"

# ---- A cannot pull B's users into its vaults ----------------------------------------------------
for u in "$B_USER" "$E_USER"; do
	for role in VIEWER OWNER; do
		api PUT "/api/vault/vaults/$AV1/members/$u" "{\"role\":\"$role\"}" "$A_JWT"
		expect_status 404 "alice grants $role on A's vault to B's user"
		expect_code not_found "alice grants $role to B's user"
		expect_jq '.error.message | test("not a member of this org|no such member of this org")' \
			"alice grants to B's user: 'not a member of this org'"
	done
	api DELETE "/api/vault/vaults/$AV1/members/$u" "" "$A_JWT"
	expect_status 404 "alice removes B's user from A's vault"
	api PUT "/api/vault/vaults/$AV1/members/$u" '{"role":"VIEWER"}' "$A_TOK"
	expect_status 403 "A's token grants a role to B's user (tokens never manage members)"
done
expect_eq 0 "$(psql_super "SELECT count(*) FROM vault_members WHERE user_id IN ('$B_USER', '$E_USER')
	AND org_id <> '$B_ORG'")" "B's users hold no role outside B"

# carol leaves B: her roles in B's vault go, her roles in A's vaults stay (checked below).
api DELETE "/api/orgs/current/members/$C_USER" "" "$B_JWT"
expect_status 204 "bob removes carol from B"
expect_eq "0 2" "$(psql_super "SELECT (SELECT count(*) FROM vault_members WHERE user_id = '$C_USER'
	AND org_id = '$B_ORG') || ' ' || (SELECT count(*) FROM vault_members WHERE user_id = '$C_USER'
	AND org_id = '$A_ORG')")" "carol's B role is gone, her two A roles remain"
api GET "/api/vault/vaults/$BV" "" "$CB_JWT"
expect_status 401 "carol's B JWT after her removal from B"

# ---- A is unchanged --------------------------------------------------------------------------------
expect_eq "$A_DB_BEFORE" "$(a_digest)" "org A's vault/secret rows unchanged (digest)"
expect_eq "$A_VIEW_BEFORE" "$(a_snapshot)" "alice sees the same vaults, members and secrets"
expect_eq "$AV1 $AV2" "$(psql_super "SELECT string_agg(id::text, ' ' ORDER BY name) FROM vaults
	WHERE org_id = '$A_ORG'")" "A's vaults exist"
for s in "${A_SECRETS[@]}"; do
	api POST "/api/vault/secrets/$s/reveal" "" "$A_JWT"
	expect_status 200 "alice reveals ${A_TYPE[$s]}"
	want_v=1
	[ "$s" = "${A_SECRETS[1]}" ] && want_v=2
	expect_jq ".version == $want_v and .type == \"${A_TYPE[$s]}\"" "A's ${A_TYPE[$s]}: version"
	expect_eq "$(jq -cS . <<<"${A_FIELDS[$s]}")" "$(jq -cS .fields <<<"$BODY")" \
		"A's ${A_TYPE[$s]}: same values"
done
api POST "/api/vault/secrets/$A_TOTP/totp" "" "$C_JWT"
expect_status 200 "carol still gets A's TOTP code"
api GET /api/vault/vaults "" "$A_TOK"
expect_jq "[.items[].id] | sort == ([\"$AV1\", \"$AV2\"] | sort)" "A's token still lists A's vaults"
expect_eq 0 "$(psql_super "SELECT count(*) FROM audit_log WHERE org_id = '$A_ORG'
	AND actor_id IN ('$B_USER', '$E_USER', '$B_TOK_ID')")" "no B actor in A's audit trail"
expect_eq 0 "$(psql_super "SELECT count(*) FROM secrets WHERE org_id = '$A_ORG' AND name = 'planted'")" \
	"nothing planted in A"

finish
