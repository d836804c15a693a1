#!/usr/bin/env bash
# Inject-only secrets are never revealed to a reader. One org, one vault (made by vowner), three
# inject-only secrets made by an EDITOR: a PASSWORD, an SSH_KEY (a real passphrase-protected
# Ed25519 key from ssh-keygen) and a TOTP seed; plus an ordinary PASSWORD as a positive control.
# Proves that
#  - reveal answers 403 forbidden for EVERY reader: org owner, org admin, vault VIEWER, EDITOR,
#    ADMIN, OWNER, vault:read and vault:write tokens; a TOTP code likewise (403); callers who
#    cannot read the vault get 404 and leave no trace;
#  - metadata (GET secret), the secret list and the vault endpoints never carry a value or a
#    `fields` key for any secret: no endpoint but reveal/totp opens a secret, one per request;
#  - every refusal is on the audit trail exactly once as SECRET_REVEAL_DENIED / TOTP_CODE_DENIED
#    with outcome "denied", the actor, the secret and the source address (counted exactly per
#    actor and secret), and there is no SECRET_REVEALED / TOTP_CODE_GENERATED for them;
#  - an EDITOR (or a vault:write token) may rotate the value but cannot clear inject_only (403,
#    nothing changes: version, flag, audit); a vault ADMIN can, after which reveal works and is
#    audited as SECRET_REVEALED; setting the flag again blocks reveal again; the org owner can
#    clear it on the TOTP secret and then gets a correct code, audited;
#  - no value of any of them appears in any response to a refused call or in the audit trail.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/totp.sh"

vt_start

reg olivia@vio.example
O_JWT=$REG_TOKEN O_USER=$REG_USER
declare -A CRED ID ATYPE
CRED[owner]=$O_JWT ID[owner]=$O_USER
join "$O_JWT" adam@vio.example admin
CRED[admin]=$JOIN_TOKEN ID[admin]=$JOIN_USER
for a in viewer editor vadmin vowner norole; do
	join "$O_JWT" "$a@vio.example" member
	CRED[$a]=$JOIN_TOKEN ID[$a]=$JOIN_USER
done
mktoken "$O_JWT" t-read '["vault:read"]'
CRED[tread]=$TOK ID[tread]=$TOK_ID
mktoken "$O_JWT" t-write '["vault:write"]'
CRED[twrite]=$TOK ID[twrite]=$TOK_ID
mktoken "$O_JWT" t-audit '["audit:read","admin"]'
CRED[taudit]=$TOK ID[taudit]=$TOK_ID
for a in owner admin viewer editor vadmin vowner norole; do ATYPE[$a]=user; done
for a in tread twrite taudit; do ATYPE[$a]=api_token; done
READERS=(owner admin viewer editor vadmin vowner tread twrite)
OUTSIDERS=(norole taudit)

mkvault "${CRED[vowner]}" ops
V=$VAULT_ID
grant "${CRED[vowner]}" "$V" "${ID[viewer]}" VIEWER
grant "${CRED[vowner]}" "$V" "${ID[editor]}" EDITOR
grant "${CRED[vowner]}" "$V" "${ID[vadmin]}" ADMIN

# ---- the secrets -------------------------------------------------------------------------------------
PW1=$(canary IOVAL) NOTE1=$(canary IOVAL) PASSPHRASE=$(canary IOVAL) PW_CONTROL=$(canary CTLVAL)
ssh-keygen -q -t ed25519 -N "$PASSPHRASE" -C deploy@vio.example -f "$VT_TMP/deploy"
SSH_PRIV=$(cat "$VT_TMP/deploy")
SSH_PUB=$(cat "$VT_TMP/deploy.pub")
TOTP_SEED=$(b32_seed)
# Values to grep for: whole values, and single lines of the key (a JSON-escaped key has no raw
# newlines, so each base64 line is a needle of its own).
CANARIES=(IOVAL "$PW1" "$NOTE1" "$PASSPHRASE" "$TOTP_SEED" "$(awk '{print $2}' <<<"$SSH_PUB")")
mapfile -t -O "${#CANARIES[@]}" CANARIES < <(grep -v -- '-----' "$VT_TMP/deploy")

mksecret "${CRED[editor]}" "$V" "$(jq -nc --arg p "$PW1" --arg n "$NOTE1" \
	'{type:"PASSWORD",name:"db-root",inject_only:true,fields:{password:$p,username:"root",notes:$n}}')"
IO_PW=$SECRET_ID
expect_jq '.inject_only == true and .version == 1 and (has("fields") | not)' "inject-only PASSWORD"
mksecret "${CRED[editor]}" "$V" "$(jq -nc --arg k "$SSH_PRIV" --arg p "$PASSPHRASE" --arg u "$SSH_PUB" \
	'{type:"SSH_KEY",name:"deploy-key",inject_only:true,fields:{private_key:$k,passphrase:$p,public_key:$u}}')"
IO_SSH=$SECRET_ID
expect_jq '.inject_only == true and .type == "SSH_KEY"' "inject-only SSH_KEY"
mksecret "${CRED[editor]}" "$V" "$(jq -nc --arg s "$TOTP_SEED" \
	'{type:"TOTP",name:"root-2fa",inject_only:true,fields:{seed:$s,issuer:"VIO",account:"root"}}')"
IO_TOTP=$SECRET_ID
expect_jq '.inject_only == true and .type == "TOTP"' "inject-only TOTP"
mksecret "${CRED[editor]}" "$V" "$(jq -nc --arg p "$PW_CONTROL" \
	'{type:"PASSWORD",name:"control",fields:{password:$p}}')"
CONTROL=$SECRET_ID
IO_ALL=("$IO_PW" "$IO_SSH" "$IO_TOTP")
declare -A SNAME=([$IO_PW]=db-root [$IO_SSH]=deploy-key [$IO_TOTP]=root-2fa)

# Expected refusal rows: EXP["action actor-id secret-id"] = count.
declare -A EXP
expect_denied() { EXP["$1 ${ID[$2]} $3"]=$((${EXP["$1 ${ID[$2]} $3"]:-0} + 1)); }

# no_values WHAT: $BODY carries no value of an inject-only secret and no `fields` key.
no_values() {
	absent "$1" "${CANARIES[@]}"
	if grep -q '"fields"' <<<"$BODY"; then fail "$1: has a fields key: ${BODY:0:300}"; else pass; fi
}

# refuse_reveal ACTOR SECRET [BODY]: 403 forbidden, nothing revealed, one refusal expected.
refuse_reveal() {
	api POST "/api/vault/secrets/$2/reveal" "${3:-}" "${CRED[$1]}"
	expect_status 403 "$1 reveals ${SNAME[$2]}"
	expect_code forbidden "$1 reveals ${SNAME[$2]}"
	expect_jq '.error.message | test("inject-only")' "$1 reveals ${SNAME[$2]}: says why"
	no_values "$1 reveals ${SNAME[$2]}"
	expect_denied SECRET_REVEAL_DENIED "$1" "$2"
}
refuse_totp() {
	api POST "/api/vault/secrets/$2/totp" "" "${CRED[$1]}"
	expect_status 403 "$1 asks a TOTP code of ${SNAME[$2]}"
	expect_code forbidden "$1 TOTP code of ${SNAME[$2]}"
	if jq -e '.code? // empty' <<<"$BODY" >/dev/null 2>&1; then
		fail "$1: a TOTP code in a refusal: $BODY"
	else
		pass
	fi
	no_values "$1 TOTP code of ${SNAME[$2]}"
	expect_denied TOTP_CODE_DENIED "$1" "$2"
}

# ---- every reader is refused -------------------------------------------------------------------------
for a in "${READERS[@]}"; do
	refuse_reveal "$a" "$IO_PW" '{"reason":"incident 42"}'
	refuse_reveal "$a" "$IO_SSH"
	refuse_reveal "$a" "$IO_TOTP" '{}'
	refuse_totp "$a" "$IO_TOTP"
	# A TOTP code of a non-TOTP secret is a type error, not a way around the flag: no audit row.
	api POST "/api/vault/secrets/$IO_PW/totp" "" "${CRED[$a]}"
	expect_status 400 "$a asks a TOTP code of a PASSWORD"
	no_values "$a TOTP code of a PASSWORD"
	# The control shows the refusals are about the flag: the same reader may reveal it.
	api POST "/api/vault/secrets/$CONTROL/reveal" "" "${CRED[$a]}"
	expect_status 200 "$a reveals the ordinary secret"
	expect_jq ".fields.password == \"$PW_CONTROL\"" "$a: the ordinary secret's value"
	# Metadata, lists and vault endpoints: never a value, never `fields`.
	for s in "${IO_ALL[@]}" "$CONTROL"; do
		api GET "/api/vault/secrets/$s" "" "${CRED[$a]}"
		expect_status 200 "$a GET metadata"
		no_values "$a GET metadata of ${SNAME[$s]:-control}"
		absent "$a GET metadata of ${SNAME[$s]:-control}" "$PW_CONTROL"
	done
	for path in "/api/vault/vaults/$V/secrets" "/api/vault/vaults/$V/secrets?limit=500" \
		"/api/vault/vaults/$V/secrets?limit=1" /api/vault/vaults "/api/vault/vaults/$V" \
		"/api/vault/vaults/$V/members"; do
		api GET "$path" "" "${CRED[$a]}"
		expect_status 200 "$a GET $path"
		no_values "$a GET $path"
		absent "$a GET $path" "$PW_CONTROL"
	done
	api GET "/api/vault/vaults/$V/secrets?limit=500" "" "${CRED[$a]}"
	expect_jq "[.items[] | select(.inject_only)] | map(.id) | sort == ([\"$IO_PW\",\"$IO_SSH\",\"$IO_TOTP\"] | sort)" \
		"$a: the list flags exactly the inject-only secrets"
done
# Callers who cannot read the vault: 404, and no row (they are not told the secret exists).
for a in "${OUTSIDERS[@]}"; do
	for s in "${IO_ALL[@]}"; do
		api POST "/api/vault/secrets/$s/reveal" "" "${CRED[$a]}"
		expect_status 404 "$a reveals ${SNAME[$s]}"
		no_values "$a reveals ${SNAME[$s]}"
		api GET "/api/vault/secrets/$s" "" "${CRED[$a]}"
		expect_status 404 "$a GET ${SNAME[$s]}"
	done
	api POST "/api/vault/secrets/$IO_TOTP/totp" "" "${CRED[$a]}"
	expect_status 404 "$a TOTP code"
done

# ---- an EDITOR rotates but cannot clear the flag -------------------------------------------------------
PW2=$(canary IOVAL) PW3=$(canary IOVAL) PW4=$(canary IOVAL)
CANARIES+=("$PW2" "$PW3" "$PW4")
state() { psql_super "SELECT version || ' ' || inject_only || ' ' || (SELECT count(*) FROM secret_versions
	WHERE secret_id = '$1') FROM secrets WHERE id = '$1'"; }
for a in editor twrite viewer; do
	api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW2" '{fields:{password:$p},inject_only:false}')" \
		"${CRED[$a]}"
	expect_status 403 "$a clears inject_only"
	expect_code forbidden "$a clears inject_only"
	no_values "$a clears inject_only"
	expect_eq "1 true 1" "$(state "$IO_PW")" "$a's refused clear changed nothing"
	api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW2" '{fields:{password:$p},inject_only:false,cas:1}')" \
		"${CRED[$a]}"
	expect_status 403 "$a clears inject_only with the right cas"
done
api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW2" '{fields:{password:$p},inject_only:false}')" \
	"${CRED[editor]}"
expect_jq '.error.message | test("ADMIN")' "the EDITOR is told an ADMIN is needed"
api GET "/api/vault/secrets/$IO_PW" "" "${CRED[editor]}"
expect_jq '.version == 1 and .inject_only == true' "metadata unchanged after the refusals"
audit_all "$O_JWT" "action=SECRET_UPDATED&resource=$IO_PW"
BODY=$AUDIT
expect_jq 'length == 0' "no SECRET_UPDATED row for refused clears"
# Rotating the value (flag untouched) is a write: the EDITOR may, and it stays inject-only.
api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW2" '{fields:{password:$p},cas:1}')" "${CRED[editor]}"
expect_status 200 "EDITOR rotates the inject-only value"
expect_jq '.version == 2 and .inject_only == true and (has("fields") | not)' "rotated, still inject-only"
refuse_reveal editor "$IO_PW"
refuse_reveal vowner "$IO_PW"

# ---- an ADMIN clears it: reveal works and is audited; setting it again blocks reveal again ----------
api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW3" '{fields:{password:$p},inject_only:false,cas:2}')" \
	"${CRED[vadmin]}"
expect_status 200 "vault ADMIN clears inject_only"
expect_jq '.version == 3 and .inject_only == false' "cleared"
expect_eq "3 false 3" "$(state "$IO_PW")" "cleared in the database"
for a in viewer tread; do
	api POST "/api/vault/secrets/$IO_PW/reveal" '{"reason":"after review"}' "${CRED[$a]}"
	expect_status 200 "$a reveals after the ADMIN cleared the flag"
	expect_jq ".version == 3 and .fields.password == \"$PW3\"" "$a: the current value"
	audit_all "$O_JWT" "action=SECRET_REVEALED&resource=$IO_PW&actor=${ID[$a]}"
	BODY=$AUDIT
	expect_jq "length == 1 and (.[0] | .outcome == \"success\" and .actor.id == \"${ID[$a]}\"
		and .actor.type == \"${ATYPE[$a]}\" and .source_ip == \"127.0.0.1\"
		and .detail.version == 3 and .detail.reason == \"after review\")" "$a's reveal is audited"
done
api PUT "/api/vault/secrets/$IO_PW" "$(jq -nc --arg p "$PW4" '{fields:{password:$p},inject_only:true,cas:3}')" \
	"${CRED[editor]}"
expect_status 200 "EDITOR sets inject_only again"
expect_jq '.version == 4 and .inject_only == true' "set again"
for a in viewer vadmin owner; do refuse_reveal "$a" "$IO_PW"; done

# The org owner clears it on the TOTP secret: codes are then generated (correct, audited).
api PUT "/api/vault/secrets/$IO_TOTP" "$(jq -nc --arg s "$TOTP_SEED" '{fields:{seed:$s},inject_only:false}')" \
	"$O_JWT"
expect_status 200 "org owner clears inject_only on the TOTP secret"
totp_settle
s1=$(totp_step)
api POST "/api/vault/secrets/$IO_TOTP/totp" "" "${CRED[viewer]}"
s2=$(totp_step)
expect_status 200 "viewer's TOTP code after the flag was cleared"
code=$(jq -r .code <<<"$BODY")
if [ "$code" = "$(totp "$TOTP_SEED" "$s1")" ] || [ "$code" = "$(totp "$TOTP_SEED" "$s2")" ]; then
	pass
else
	fail "TOTP code $code is not the seed's RFC 6238 code"
fi
audit_all "$O_JWT" "action=TOTP_CODE_GENERATED&resource=$IO_TOTP"
BODY=$AUDIT
expect_jq "length == 1 and .[0].actor.id == \"${ID[viewer]}\" and .[0].outcome == \"success\"" \
	"the code is audited"

# ---- the audit trail: every refusal exactly once, nothing else ---------------------------------------
audit_all "$O_JWT"
ALL=$AUDIT
BODY=$ALL
absent "audit trail" "${CANARIES[@]}"
for action in SECRET_REVEAL_DENIED TOTP_CODE_DENIED; do
	BODY=$(jq -c "[.[] | select(.action == \"$action\")]" <<<"$ALL")
	expect_jq "all(.[]; .outcome == \"denied\" and .resource.type == \"secret\"
		and .source_ip == \"127.0.0.1\" and .detail.reason == \"inject_only\"
		and (.actor.type == \"user\" or .actor.type == \"api_token\") and (.actor.id | type == \"string\"))" \
		"$action rows: outcome denied, actor, resource, source"
done
got=$(jq -r '[.[] | select(.action == "SECRET_REVEAL_DENIED" or .action == "TOTP_CODE_DENIED")
	| "\(.action) \(.actor.id) \(.resource.id)"] | group_by(.) | map("\(.[0]) \(length)") | .[]' <<<"$ALL" | sort)
want=$(for k in "${!EXP[@]}"; do echo "$k ${EXP[$k]}"; done | sort)
expect_eq "$want" "$got" "refusal rows per (action, actor, secret)"
total=0
for k in "${!EXP[@]}"; do total=$((total + ${EXP[$k]})); done
expect_eq "$total" \
	"$(jq '[.[] | select(.outcome == "denied")] | length' <<<"$ALL")" "denied rows in total"
n_reveal_denied=$(jq '[.[] | select(.action == "SECRET_REVEAL_DENIED")] | length' <<<"$ALL")
expect_eq $((${#READERS[@]} * 3 + 2 + 3)) "$n_reveal_denied" "SECRET_REVEAL_DENIED count"
expect_eq "${#READERS[@]}" "$(jq '[.[] | select(.action == "TOTP_CODE_DENIED")] | length' <<<"$ALL")" \
	"TOTP_CODE_DENIED count"
for a in "${READERS[@]}"; do
	BODY=$(jq -c "[.[] | select(.actor.id == \"${ID[$a]}\" and .action == \"SECRET_REVEAL_DENIED\")]" <<<"$ALL")
	expect_jq "map(.resource.id) | unique | sort == ([\"$IO_PW\",\"$IO_SSH\",\"$IO_TOTP\"] | sort)" \
		"$a's refusals name the three secrets"
	expect_jq "all(.[]; .actor.type == \"${ATYPE[$a]}\")" "$a's refusals: actor type"
done
for a in "${OUTSIDERS[@]}"; do
	expect_eq 0 "$(jq "[.[] | select(.actor.id == \"${ID[$a]}\" and .resource.type == \"secret\")] | length" \
		<<<"$ALL")" "no secret row for $a (cannot see the vault)"
done
BODY=$(jq -c "[.[] | select((.action == \"SECRET_REVEALED\" or .action == \"TOTP_CODE_GENERATED\")
	and (.resource.id == \"$IO_SSH\" or (.resource.id == \"$IO_TOTP\" and .action == \"SECRET_REVEALED\")))]" <<<"$ALL")
expect_jq 'length == 0' "no reveal of the SSH key or the TOTP seed ever succeeded"
expect_eq 2 "$(jq "[.[] | select(.action == \"SECRET_REVEALED\" and .resource.id == \"$IO_PW\")] | length" <<<"$ALL")" \
	"the PASSWORD was revealed exactly twice (after the ADMIN cleared the flag)"
# The Events API shows the same refusals, flagged high severity.
api GET "/api/events/v1?from=2000-01-01&limit=500" "" "$O_JWT"
expect_status 200 "events"
expect_jq "[.events[] | select(.action == \"SECRET_REVEAL_DENIED\" and .severity == \"high\")] | length == $n_reveal_denied" \
	"events: every SECRET_REVEAL_DENIED, high severity"
absent "events" "${CANARIES[@]}"
BODY=$(psql_super "SELECT row_to_json(a)::text FROM audit_log a")
absent "audit_log table" "${CANARIES[@]}"

finish
