#!/usr/bin/env bash
# Vault authorization within one org, table-driven: every actor against every vault and secret
# endpoint, with the expected status written down below as data (derived from the rules in
# src/authz/authz.h: effective role = max(vault role, OWNER for org owner/admin); tokens:
# vault:write → EDITOR, vault:read → VIEWER, nothing else → no role; gates read VIEWER+, write
# EDITOR+, delete and manage_members ADMIN+, manage_vault OWNER; no read → 404, read but not the
# gate → 403; vaults are created and members managed by users only).
# Each destructive cell runs on its own fresh vault or secret, so the order of cells does not
# matter. Each cell also checks
#  - the state afterwards: changed exactly when the call succeeded;
#  - the audit trail: a success has exactly one row of its action with the actor, resource,
#    outcome "success" and source_ip; a refusal leaves no row by that actor on that resource;
#  - for GET vault: the effective role reported is the one the rules give.
# Then the finer rules: a vault ADMIN cannot grant OWNER, promote itself, or demote/remove an
# OWNER; an EDITOR (or a vault:write token) cannot clear inject_only, an ADMIN can; anyone can
# leave a vault; leaving the org drops every vault role (a re-invited user starts with none). And
# no secret value appears anywhere in the audit trail (API, Events API and the raw table).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/totp.sh"

vt_start

# ---- the people -----------------------------------------------------------------------------------
reg olivia@vr.example
O_JWT=$REG_TOKEN O_USER=$REG_USER ORG=$REG_ORG
join "$O_JWT" adam@vr.example admin
AD_JWT=$JOIN_TOKEN AD_USER=$JOIN_USER
declare -A CRED ID ATYPE
CRED[owner]=$O_JWT ID[owner]=$O_USER
CRED[admin]=$AD_JWT ID[admin]=$AD_USER
for a in viewer editor vadmin vowner norole target; do
	join "$O_JWT" "$a@vr.example" member
	CRED[$a]=$JOIN_TOKEN ID[$a]=$JOIN_USER
done
mktoken "$O_JWT" t-read '["vault:read"]'
CRED[tread]=$TOK ID[tread]=$TOK_ID
mktoken "$O_JWT" t-write '["vault:write"]'
CRED[twrite]=$TOK ID[twrite]=$TOK_ID
mktoken "$O_JWT" t-audit '["audit:read"]'
CRED[taudit]=$TOK ID[taudit]=$TOK_ID
for a in owner admin viewer editor vadmin vowner norole target; do ATYPE[$a]=user; done
for a in tread twrite taudit; do ATYPE[$a]=api_token; done
# The effective role each actor should be shown on a vault it can read (ROLE_OF) — and holds.
declare -A ROLE_OF=([owner]=OWNER [admin]=OWNER [viewer]=VIEWER [editor]=EDITOR [vadmin]=ADMIN
	[vowner]=OWNER [tread]=VIEWER [twrite]=EDITOR)

CANARIES=(PWVAL) # every value below starts with it: one needle catches them all
SEQ=0
next() { SEQ=$((SEQ + 1)); }

# fresh_vault: a vault made by vowner (its OWNER), with viewer/editor/vadmin in their roles and
# neither the org owner nor the org admin as members → FV.
fresh_vault() {
	next
	mkvault "${CRED[vowner]}" "fv-$SEQ"
	FV=$VAULT_ID
	grant "${CRED[vowner]}" "$FV" "${ID[viewer]}" VIEWER
	grant "${CRED[vowner]}" "$FV" "${ID[editor]}" EDITOR
	grant "${CRED[vowner]}" "$FV" "${ID[vadmin]}" ADMIN
}
# pw_body NAME: PW_BODY = a PASSWORD secret body with a fresh canary value PW_VAL (also recorded
# in CANARIES; not in a subshell, so the record survives).
pw_body() {
	PW_VAL=$(canary PWVAL)
	CANARIES+=("$PW_VAL")
	PW_BODY=$(jq -nc --arg n "$1" --arg p "$PW_VAL" \
		'{type:"PASSWORD",name:$n,fields:{password:$p,username:"svc"}}')
}
fresh_secret() {
	next
	pw_body "fs-$SEQ"
	mksecret "${CRED[vowner]}" "$V" "$PW_BODY"
	FS=$SECRET_ID
}

fresh_vault
V=$FV
pw_body shared-password
mksecret "${CRED[vowner]}" "$V" "$PW_BODY"
S_PW=$SECRET_ID
S_PW_VALUE=$PW_VAL
TOTP_SEED=$(b32_seed)
CANARIES+=("$TOTP_SEED")
mksecret "${CRED[vowner]}" "$V" "$(jq -nc --arg s "$TOTP_SEED" \
	'{type:"TOTP",name:"shared-totp",fields:{seed:$s,issuer:"VR",account:"ops"}}')"
S_TOTP=$SECRET_ID
expect_eq 0 "$(psql_super "SELECT count(*) FROM vault_members WHERE vault_id = '$V'
	AND user_id IN ('$O_USER', '$AD_USER', '${ID[norole]}')")" \
	"org owner, org admin and norole hold no role on the vault"

# ---- the matrix ------------------------------------------------------------------------------------
ACTORS=(owner admin viewer editor vadmin vowner norole tread twrite taudit)
MATRIX=$(cat <<'EOF'
endpoint       owner admin viewer editor vadmin vowner norole tread twrite taudit
vault_create   201   201   201    201    201    201    201    403   403    403
vault_get      200   200   200    200    200    200    404    200   200    404
vault_patch    200   200   403    403    403    200    404    403   403    404
vault_delete   204   204   403    403    403    204    404    403   403    404
members_list   200   200   200    200    200    200    404    200   200    404
member_put     200   200   403    403    200    200    404    403   403    404
member_delete  204   204   403    403    204    204    404    403   403    404
secret_create  201   201   403    201    201    201    404    403   201    404
secret_list    200   200   200    200    200    200    404    200   200    404
secret_get     200   200   200    200    200    200    404    200   200    404
secret_put     200   200   403    200    200    200    404    403   200    404
secret_delete  204   204   403    403    204    204    404    403   403    404
secret_reveal  200   200   200    200    200    200    404    200   200    404
secret_totp    200   200   200    200    200    200    404    200   200    404
EOF
)
expect_eq "endpoint ${ACTORS[*]}" "$(head -n1 <<<"$MATRIX" | tr -s ' ')" "matrix header = actors"

# audit_success ACTION RTYPE RID ACTOR WHAT [DETAIL_JQ]: exactly one row of ACTION by ACTOR on
# RID (whose detail satisfies DETAIL_JQ), complete: actor type and id, resource, outcome, source.
audit_success() {
	audit_all "$O_JWT" "action=$1&resource=$3&actor=${ID[$4]}"
	BODY=$(jq -c "[.[] | select(${6:-true})]" <<<"$AUDIT")
	expect_jq 'length == 1' "$5: one $1 row${6:+ with $6}"
	expect_jq ".[0] | .action == \"$1\" and .outcome == \"success\" and .source_ip == \"127.0.0.1\"
		and .actor.type == \"${ATYPE[$4]}\" and .actor.id == \"${ID[$4]}\"
		and .resource.type == \"$2\" and .resource.id == \"$3\"" "$5: $1 row"
}
# audit_none RID ACTOR WHAT [ACTION]: a refused call left no row (of ACTION) by ACTOR on RID.
audit_none() {
	audit_all "$O_JWT" "resource=$1&actor=${ID[$2]}${4:+&action=$4}"
	BODY=$AUDIT
	expect_jq 'length == 0' "$3: no audit row"
}
# expect_outcome EXPECTED WHAT: the status, and the error code that goes with it.
expect_outcome() {
	expect_status "$1" "$2"
	case $1 in
	403) expect_code forbidden "$2" ;;
	404) expect_code not_found "$2" ;;
	esac
}
count() { psql_super "SELECT count(*) FROM $1"; }

run_cell() {
	local actor=$1 ep=$2 want=$3 cred=${CRED[$1]} what="$1 $2" ok=0 id c s1 s2 code
	[ "${want:0:1}" = 2 ] && ok=1
	case $ep in
	vault_create)
		next
		api POST /api/vault/vaults "{\"name\":\"vc-$SEQ\"}" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $ok "$(count "vaults WHERE name = 'vc-$SEQ'")" "$what: vault exists"
		if [ $ok = 1 ]; then
			id=$(jq -r .id <<<"$BODY")
			expect_jq '.role == "OWNER"' "$what: creator is OWNER"
			audit_success VAULT_CREATED vault "$id" "$actor" "$what" ".detail.name == \"vc-$SEQ\""
		else
			audit_all "$O_JWT" "action=VAULT_CREATED&actor=${ID[$actor]}"
			BODY=$AUDIT
			expect_jq 'length == 0' "$what: no VAULT_CREATED row"
		fi
		;;
	vault_get)
		api GET "/api/vault/vaults/$V" "" "$cred"
		expect_outcome "$want" "$what"
		[ $ok = 1 ] && expect_jq ".id == \"$V\" and .role == \"${ROLE_OF[$actor]}\"" \
			"$what: effective role ${ROLE_OF[$actor]:-}"
		api GET /api/vault/vaults "" "$cred"
		expect_status 200 "$actor lists vaults"
		expect_eq $ok "$(jq "[.items[] | select(.id == \"$V\")] | length" <<<"$BODY")" \
			"$actor: the vault is listed iff readable"
		;;
	vault_patch)
		fresh_vault
		api PATCH "/api/vault/vaults/$FV" "{\"description\":\"patched-by-$actor\"}" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $ok "$(count "vaults WHERE id = '$FV' AND description = 'patched-by-$actor'")" \
			"$what: description changed"
		if [ $ok = 1 ]; then
			audit_success VAULT_UPDATED vault "$FV" "$actor" "$what"
		else
			audit_none "$FV" "$actor" "$what"
		fi
		;;
	vault_delete)
		fresh_vault
		api DELETE "/api/vault/vaults/$FV" "" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $((1 - ok)) "$(count "vaults WHERE id = '$FV'")" "$what: vault still there"
		if [ $ok = 1 ]; then
			audit_success VAULT_DELETED vault "$FV" "$actor" "$what"
		else
			audit_none "$FV" "$actor" "$what"
		fi
		;;
	members_list)
		api GET "/api/vault/vaults/$V/members" "" "$cred"
		expect_outcome "$want" "$what"
		[ $ok = 1 ] && expect_jq "[.items[] | {user_id, role}] | sort_by(.user_id) ==
			([{user_id:\"${ID[vowner]}\",role:\"OWNER\"},{user_id:\"${ID[viewer]}\",role:\"VIEWER\"},
			  {user_id:\"${ID[editor]}\",role:\"EDITOR\"},{user_id:\"${ID[vadmin]}\",role:\"ADMIN\"}]
			 | sort_by(.user_id))" "$what: the members"
		;;
	member_put)
		fresh_vault
		api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"VIEWER"}' "$cred"
		expect_outcome "$want" "$what"
		expect_eq $ok "$(count "vault_members WHERE vault_id = '$FV' AND
			user_id = '${ID[target]}' AND role = 'VIEWER'")" "$what: role granted"
		if [ $ok = 1 ]; then
			audit_success VAULT_MEMBER_CHANGED vault "$FV" "$actor" "$what" \
				".detail.user_id == \"${ID[target]}\" and .detail.to == \"VIEWER\""
		else
			audit_none "$FV" "$actor" "$what"
		fi
		;;
	member_delete)
		fresh_vault
		grant "${CRED[vowner]}" "$FV" "${ID[target]}" VIEWER
		api DELETE "/api/vault/vaults/$FV/members/${ID[target]}" "" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $((1 - ok)) "$(count "vault_members WHERE vault_id = '$FV' AND
			user_id = '${ID[target]}'")" "$what: target still a member"
		if [ $ok = 1 ]; then
			audit_success VAULT_MEMBER_CHANGED vault "$FV" "$actor" "$what" \
				".detail.user_id == \"${ID[target]}\" and .detail.from == \"VIEWER\" and .detail.to == null"
		else
			audit_none "$FV" "$actor" "$what"
		fi
		;;
	secret_create)
		next
		pw_body "sc-$SEQ"
		api POST "/api/vault/vaults/$V/secrets" "$PW_BODY" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $ok "$(count "secrets WHERE vault_id = '$V' AND name = 'sc-$SEQ'")" \
			"$what: secret exists"
		if [ $ok = 1 ]; then
			id=$(jq -r .id <<<"$BODY")
			expect_jq '.version == 1 and (has("fields") | not)' "$what: metadata"
			audit_success SECRET_CREATED secret "$id" "$actor" "$what" \
				".detail.vault_id == \"$V\" and .detail.version == 1"
		else
			audit_all "$O_JWT" "action=SECRET_CREATED&actor=${ID[$actor]}"
			BODY=$AUDIT
			expect_jq 'length == 0' "$what: no SECRET_CREATED row"
		fi
		;;
	secret_list)
		api GET "/api/vault/vaults/$V/secrets" "" "$cred"
		expect_outcome "$want" "$what"
		[ $ok = 1 ] && expect_jq "[.items[] | select(.id == \"$S_PW\" or .id == \"$S_TOTP\")] | length == 2" \
			"$what: shared secrets listed"
		;;
	secret_get)
		api GET "/api/vault/secrets/$S_PW" "" "$cred"
		expect_outcome "$want" "$what"
		[ $ok = 1 ] && expect_jq ".id == \"$S_PW\" and .vault_id == \"$V\" and (has(\"fields\") | not)" \
			"$what: metadata"
		;;
	secret_put)
		fresh_secret
		c=$(canary PWVAL)
		CANARIES+=("$c")
		api PUT "/api/vault/secrets/$FS" "$(jq -nc --arg p "$c" '{fields:{password:$p},cas:1}')" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $((1 + ok)) "$(psql_super "SELECT version FROM secrets WHERE id = '$FS'")" \
			"$what: version"
		expect_eq $((1 + ok)) "$(count "secret_versions WHERE secret_id = '$FS'")" "$what: versions"
		if [ $ok = 1 ]; then
			audit_success SECRET_UPDATED secret "$FS" "$actor" "$what" ".detail.version == 2"
		else
			audit_none "$FS" "$actor" "$what"
		fi
		;;
	secret_delete)
		fresh_secret
		api DELETE "/api/vault/secrets/$FS" "" "$cred"
		expect_outcome "$want" "$what"
		expect_eq $((1 - ok)) "$(count "secrets WHERE id = '$FS'")" "$what: secret still there"
		expect_eq $((1 - ok)) "$(count "secret_versions WHERE secret_id = '$FS'")" \
			"$what: versions still there"
		if [ $ok = 1 ]; then
			audit_success SECRET_DELETED secret "$FS" "$actor" "$what"
		else
			audit_none "$FS" "$actor" "$what"
		fi
		;;
	secret_reveal)
		api POST "/api/vault/secrets/$S_PW/reveal" '{"reason":"role matrix"}' "$cred"
		expect_outcome "$want" "$what"
		if [ $ok = 1 ]; then
			expect_jq ".id == \"$S_PW\" and .version == 1 and .fields.password == \"$S_PW_VALUE\"" \
				"$what: the value"
			audit_success SECRET_REVEALED secret "$S_PW" "$actor" "$what" \
				'.detail.version == 1 and .detail.reason == "role matrix"'
		else
			audit_none "$S_PW" "$actor" "$what"
		fi
		;;
	secret_totp)
		totp_settle
		s1=$(totp_step)
		api POST "/api/vault/secrets/$S_TOTP/totp" "" "$cred"
		s2=$(totp_step)
		expect_outcome "$want" "$what"
		if [ $ok = 1 ]; then
			code=$(jq -r .code <<<"$BODY")
			if [ "$code" = "$(totp "$TOTP_SEED" "$s1")" ] || [ "$code" = "$(totp "$TOTP_SEED" "$s2")" ]; then
				pass
			else
				fail "$what: code $code is not the RFC 6238 code of the seed"
			fi
			expect_jq '.period == 30 and .remaining_seconds >= 1 and .remaining_seconds <= 30' \
				"$what: period"
			audit_success TOTP_CODE_GENERATED secret "$S_TOTP" "$actor" "$what" \
				"(.detail | tostring | contains(\"$code\") | not)"
		else
			audit_none "$S_TOTP" "$actor" "$what"
		fi
		;;
	*)
		fail "unknown endpoint in the matrix: $ep"
		;;
	esac
	return 0
}

CELLS=0
while read -r ep rest; do
	[ "$ep" = endpoint ] && continue
	read -r -a wants <<<"$rest"
	expect_eq "${#ACTORS[@]}" "${#wants[@]}" "matrix row $ep has one cell per actor"
	for i in "${!ACTORS[@]}"; do
		run_cell "${ACTORS[$i]}" "$ep" "${wants[$i]}"
		CELLS=$((CELLS + 1))
	done
done <<<"$MATRIX"
expect_eq 140 "$CELLS" "cells run"

# ---- an ADMIN grants at most ADMIN and cannot touch an OWNER ---------------------------------------
fresh_vault
api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"OWNER"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN grants OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[vadmin]}" '{"role":"OWNER"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN promotes itself to OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[vowner]}" '{"role":"VIEWER"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN demotes the OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[vowner]}" '{"role":"ADMIN"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN demotes the OWNER to ADMIN"
api DELETE "/api/vault/vaults/$FV/members/${ID[vowner]}" "" "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN removes the OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[editor]}" '{"role":"OWNER"}' "${CRED[editor]}"
expect_outcome 403 "vault EDITOR promotes itself"
api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"ADMIN"}' "${CRED[vadmin]}"
expect_status 200 "vault ADMIN grants ADMIN (its own role)"
api PUT "/api/vault/vaults/$FV/members/${ID[editor]}" '{"role":"VIEWER"}' "${CRED[vadmin]}"
expect_status 200 "vault ADMIN demotes an EDITOR"
api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"SUPERUSER"}' "${CRED[vadmin]}"
expect_outcome 400 "unknown role"
expect_code validation_failed "unknown role"
expect_eq "${ID[vowner]}:OWNER ${ID[vadmin]}:ADMIN ${ID[target]}:ADMIN ${ID[editor]}:VIEWER ${ID[viewer]}:VIEWER" \
	"$(psql_super "SELECT string_agg(user_id || ':' || role, ' ' ORDER BY CASE user_id
		WHEN '${ID[vowner]}' THEN 1 WHEN '${ID[vadmin]}' THEN 2 WHEN '${ID[target]}' THEN 3
		WHEN '${ID[editor]}' THEN 4 ELSE 5 END) FROM vault_members WHERE vault_id = '$FV'")" \
	"roles after the ADMIN's attempts"
audit_all "$O_JWT" "resource=$FV&actor=${ID[vadmin]}"
BODY=$AUDIT
expect_jq 'length == 2 and all(.[]; .action == "VAULT_MEMBER_CHANGED")' \
	"only the ADMIN's two allowed changes are audited"
# The org admin is OWNER on every vault: it may grant OWNER, and demote one.
api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"OWNER"}' "${CRED[admin]}"
expect_status 200 "org admin grants OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[vowner]}" '{"role":"EDITOR"}' "${CRED[admin]}"
expect_status 200 "org admin demotes a vault OWNER"
api PUT "/api/vault/vaults/$FV/members/${ID[target]}" '{"role":"VIEWER"}' "${CRED[twrite]}"
expect_outcome 403 "vault:write token manages members"
# Org owners and admins are OWNER on every vault, member or not: a vault ADMIN cannot give them an
# entry, change it or remove it ("nobody changes someone above them" is about the effective role).
api PUT "/api/vault/vaults/$FV/members/$AD_USER" '{"role":"VIEWER"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN gives the org admin a vault role"
api PUT "/api/vault/vaults/$FV/members/$O_USER" '{"role":"ADMIN"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN gives the org owner a vault role"
api PUT "/api/vault/vaults/$FV/members/$AD_USER" '{"role":"VIEWER"}' "$O_JWT"
expect_status 200 "org owner records a VIEWER entry for the org admin"
api PUT "/api/vault/vaults/$FV/members/$AD_USER" '{"role":"EDITOR"}' "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN changes the org admin's entry"
api DELETE "/api/vault/vaults/$FV/members/$AD_USER" "" "${CRED[vadmin]}"
expect_outcome 403 "vault ADMIN removes the org admin's entry"
expect_eq VIEWER "$(psql_super "SELECT role FROM vault_members WHERE vault_id = '$FV' AND user_id = '$AD_USER'")" \
	"the org admin's entry is untouched"
api GET "/api/vault/vaults/$FV" "" "$AD_JWT"
expect_jq '.role == "OWNER"' "the org admin with a VIEWER entry still acts as OWNER"
api PUT "/api/vault/vaults/$FV/members/$AD_USER" '{"role":"EDITOR"}' "${CRED[target]}"
expect_status 200 "a vault OWNER (plain member) changes the org admin's entry (equal roles)"
api DELETE "/api/vault/vaults/$FV/members/$AD_USER" "" "$AD_JWT"
expect_status 204 "the org admin drops its own entry"

# ---- inject_only: EDITOR may set it, only ADMIN+ may clear it --------------------------------------
pw_body io-secret
mksecret "${CRED[editor]}" "$V" "$(jq -c '.inject_only = true' <<<"$PW_BODY")"
IO=$SECRET_ID
expect_jq '.inject_only == true' "EDITOR creates an inject-only secret"
for a in editor twrite; do
	c=$(canary PWVAL)
	CANARIES+=("$c")
	api PUT "/api/vault/secrets/$IO" "$(jq -nc --arg p "$c" '{fields:{password:$p},inject_only:false}')" \
		"${CRED[$a]}"
	expect_outcome 403 "$a clears inject_only"
	expect_eq "1 true" "$(psql_super "SELECT version || ' ' || inject_only FROM secrets WHERE id = '$IO'")" \
		"$a's refused clear changed nothing"
	audit_none "$IO" "$a" "$a clears inject_only" SECRET_UPDATED
	api POST "/api/vault/secrets/$IO/reveal" "" "${CRED[$a]}"
	expect_outcome 403 "$a reveals the inject-only secret"
done
c=$(canary PWVAL)
CANARIES+=("$c")
api PUT "/api/vault/secrets/$IO" "$(jq -nc --arg p "$c" '{fields:{password:$p},inject_only:false,cas:1}')" \
	"${CRED[vadmin]}"
expect_status 200 "vault ADMIN clears inject_only"
expect_jq '.inject_only == false and .version == 2' "inject_only cleared"
audit_success SECRET_UPDATED secret "$IO" vadmin "ADMIN clears inject_only" \
	'.detail.inject_only == false and .detail.version == 2'
api POST "/api/vault/secrets/$IO/reveal" "" "${CRED[editor]}"
expect_status 200 "reveal after the ADMIN cleared inject_only"
expect_jq ".fields.password == \"$c\"" "revealed the current value"
api PUT "/api/vault/secrets/$IO" "$(jq -nc --arg p "$c" '{fields:{password:$p},inject_only:true}')" \
	"${CRED[editor]}"
expect_status 200 "EDITOR sets inject_only again"
api POST "/api/vault/secrets/$IO/reveal" "" "${CRED[vadmin]}"
expect_outcome 403 "reveal after inject_only was set again"

# ---- anyone may leave a vault ------------------------------------------------------------------------
fresh_vault
for a in viewer editor vadmin vowner; do
	api DELETE "/api/vault/vaults/$FV/members/${ID[$a]}" "" "${CRED[$a]}"
	expect_status 204 "$a leaves the vault"
	audit_success VAULT_MEMBER_CHANGED vault "$FV" "$a" "$a leaves" \
		".detail.user_id == \"${ID[$a]}\" and .detail.to == null"
	api GET "/api/vault/vaults/$FV" "" "${CRED[$a]}"
	expect_outcome 404 "$a after leaving"
done
expect_eq 0 "$(count "vault_members WHERE vault_id = '$FV'")" "the vault has no members left"
api GET "/api/vault/vaults/$FV" "" "$O_JWT"
expect_status 200 "the org owner still manages the memberless vault"
api DELETE "/api/vault/vaults/$FV/members/${ID[norole]}" "" "${CRED[norole]}"
expect_outcome 404 "a non-member 'leaves' a vault it cannot see"

# ---- leaving the org drops vault roles -------------------------------------------------------------
reg dave@vr.example # dave has his own org, so he can log in after being removed from this one
D_OWN_JWT=$REG_TOKEN
join "$O_JWT" dave@vr.example member "$D_OWN_JWT"
D_JWT=$JOIN_TOKEN D_USER=$JOIN_USER
grant "${CRED[vowner]}" "$V" "$D_USER" EDITOR
api POST "/api/vault/secrets/$S_PW/reveal" "" "$D_JWT"
expect_status 200 "dave (EDITOR) reveals"
api DELETE "/api/orgs/current/members/$D_USER" "" "$O_JWT"
expect_status 204 "owner removes dave from the org"
expect_eq 0 "$(count "vault_members WHERE user_id = '$D_USER'")" "dave's vault roles are gone"
api POST /api/auth/login "$(jq -nc --arg p "$PW" '{email:"dave@vr.example",password:$p}')"
expect_status 200 "dave logs in (his own org)"
join "$O_JWT" dave@vr.example member "$(jq -r .token <<<"$BODY")"
D_JWT=$JOIN_TOKEN
expect_eq "$D_USER" "$JOIN_USER" "re-invited dave is the same user"
api GET /api/auth/me "" "$D_JWT"
expect_jq ".org.id == \"$ORG\"" "dave is back in the org"
for path in "GET /api/vault/vaults/$V" "GET /api/vault/vaults/$V/secrets" "GET /api/vault/secrets/$S_PW" \
	"POST /api/vault/secrets/$S_PW/reveal" "POST /api/vault/secrets/$S_TOTP/totp"; do
	api "${path%% *}" "${path#* }" "" "$D_JWT"
	expect_outcome 404 "re-invited dave: $path"
done
api GET /api/vault/vaults "" "$D_JWT"
expect_jq '.items == []' "re-invited dave sees no vault"

# ---- the org role is read per request: a demoted org admin loses its implicit OWNER at once ----------
api PATCH "/api/orgs/current/members/$AD_USER" '{"org_role":"member"}' "$O_JWT"
expect_status 200 "owner demotes the org admin to member"
api GET "/api/vault/vaults/$V" "" "$AD_JWT"
expect_outcome 404 "demoted admin (same JWT) reads the vault"
api POST "/api/vault/secrets/$S_PW/reveal" "" "$AD_JWT"
expect_outcome 404 "demoted admin reveals"
api PATCH "/api/orgs/current/members/$AD_USER" '{"org_role":"admin"}' "$O_JWT"
expect_status 200 "owner makes them admin again"
api GET "/api/vault/vaults/$V" "" "$AD_JWT"
expect_status 200 "admin again reads the vault"
expect_jq '.role == "OWNER"' "admin again is OWNER of the vault"

# ---- a revoked token reads nothing -------------------------------------------------------------------
api DELETE "/api/tokens/${ID[tread]}" "" "$O_JWT"
expect_status 204 "revoke the vault:read token"
api POST "/api/vault/secrets/$S_PW/reveal" "" "${CRED[tread]}"
expect_outcome 401 "revoked token reveals"
api GET /api/vault/vaults "" "${CRED[tread]}"
expect_outcome 401 "revoked token lists vaults"

# ---- no value in the audit trail ---------------------------------------------------------------------
audit_all "$O_JWT"
BODY=$AUDIT
expect_jq 'length > 150' "the audit trail has the matrix's rows"
absent "audit trail (API)" "${CANARIES[@]}"
EVENTS="" cursor=""
while :; do
	api GET "/api/events/v1?from=2000-01-01&limit=500${cursor:+&cursor=$cursor}" "" "$O_JWT"
	expect_status 200 "events page"
	EVENTS+=$BODY
	cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
	[ -n "$cursor" ] && [ "$STATUS" = 200 ] || break
done
BODY=$EVENTS
absent "audit trail (Events API)" "${CANARIES[@]}"
expect_eq "$(jq length <<<"$AUDIT")" "$(grep -o '"action":' <<<"$EVENTS" | wc -l)" \
	"the Events API has every audit row"
BODY=$(psql_super "SELECT row_to_json(a)::text FROM audit_log a WHERE org_id = '$ORG'")
expect_eq "$(jq length <<<"$AUDIT")" "$(wc -l <<<"$BODY")" "the API shows every row of the table"
absent "audit trail (table)" "${CANARIES[@]}"
[ "${#CANARIES[@]}" -ge 40 ] && pass || fail "only ${#CANARIES[@]} canaries recorded"

finish
