#!/usr/bin/env bash
# POST /api/vault/scan and the vault fingerprints behind it (docs/scanner-server.md), end to end:
#  - secrets of several types in org A (a password, an API key whose value is full of delimiters,
#    an env var with surrounding whitespace, an inject-only key, a TOTP otpauth:// seed, a card
#    number written with spaces) get fingerprint rows, never their values;
#  - a rule-detected credential is reported by rule id, without a secret id;
#  - each stored value is found, at its exact byte offsets, plain, inside JSON, in a URL,
#    ANSI-coloured (around it and in the middle of it), trimmed or with its whitespace, after
#    multi-byte UTF-8 and after a NUL; the otpauth secret alone and the card digits alone too;
#  - text with nothing in it: 200, no findings, no audit row; a finding writes exactly one
#    CREDENTIAL_EXPOSURE_DETECTED row whose detail names rules and readable secrets and holds no
#    secret byte (nor does any reply);
#  - org B scanning A's values gets no fingerprint hit (B's own value it does find); a member with
#    no vault access gets "vault-secret" without secret_id/field (and so does the audit detail);
#    a vault:read token gets them, an audit:read token is refused;
#  - after an update the old value no longer matches and the new one does; after a delete
#    nothing does and the rows are gone;
#  - fail closed: a fingerprint row that cannot be written fails the secret write (nothing
#    stored); an audit row that cannot be written fails the scan (no findings leave);
#  - malformed bodies 400, wrong media type 415, over 1 MiB 413, no or a bad bearer 401;
#  - master key rotation re-wraps the scanner key and detection keeps working;
#  - a plain pg_dump of the database contains none of the values (and does contain the names).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

for t in pg_dump python3; do
	command -v "$t" >/dev/null || { echo "missing tool: $t (run scripts/deps.sh)" >&2; exit 1; }
done

vt_start

# scan TEXT BEARER: POST /api/vault/scan {text}.
scan() {
	api POST /api/vault/scan "$(jq -nc --arg t "$1" '{text:$t}')" "$2"
}
# nbytes STRING: its length in bytes.
nbytes() { printf '%s' "$1" | wc -c; }
# hits SECRET_ID: the vault-secret findings of $BODY naming that secret.
hits() {
	jq --arg s "$1" '[.findings[] | select(.rule_id == "vault-secret" and .secret_id == $s)] |
		length' <<<"$BODY"
}
# vhits: every vault-secret finding of $BODY.
vhits() { jq '[.findings[] | select(.rule_id == "vault-secret")] | length' <<<"$BODY"; }
# expect_hit SECRET_ID FIELD START END WHAT: exactly one finding of that secret, at [START, END).
expect_hit() {
	expect_status 200 "$5"
	expect_eq 1 "$(hits "$1")" "$5: one finding of the secret"
	expect_eq "$2 $3 $4 critical" "$(jq -r --arg s "$1" '.findings[] |
		select(.rule_id == "vault-secret" and .secret_id == $s) |
		"\(.field) \(.start) \(.end) \(.severity | ascii_downcase)"' <<<"$BODY" | head -n1)" \
		"$5: field, offsets, severity"
	expect_jq '.count == (.findings | length) and .truncated == false' "$5: count"
}
# exposures JWT: the org's CREDENTIAL_EXPOSURE_DETECTED rows (newest first) in AUDIT, their
# number in NEXP.
exposures() {
	audit_all "$1" "action=CREDENTIAL_EXPOSURE_DETECTED"
	NEXP=$(jq length <<<"$AUDIT")
}

# ---- org A: alice, a vault, secrets of several types -------------------------------------------
reg alice@scan.example
A_JWT=$REG_TOKEN A_ORG=$REG_ORG
mkvault "$A_JWT" prod
VAULT=$VAULT_ID

PWV=$(canary pw)                                    # pw-<24 hex>: no delimiter
KEYV="k3y:with/delims=and spaces&$(canary more)"    # delimiters inside the value
ENVV_CORE=$(canary envval)
ENVV="  $ENVV_CORE	 "                            # stored with surrounding whitespace
INJV=$(canary inject)
SEED=$(b32_seed)
CARD=$(luhn_card)
CARD_SPACED="${CARD:0:4} ${CARD:4:4} ${CARD:8:4} ${CARD:12:4}"
NAME_CANARY=$(canary name)                          # metadata: stored in clear by design

mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$PWV" --arg n "$NAME_CANARY" \
	'{type:"PASSWORD",name:$n,fields:{password:$p,username:"dbuser",url:"https://db.example"}}')"
S_PW=$SECRET_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$KEYV" \
	'{type:"API_KEY",name:"delims",fields:{key:$k,service:"svc"}}')"
S_KEY=$SECRET_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg v "$ENVV" \
	'{type:"ENV_VAR",name:"env",fields:{name:"DB_TOKEN",value:$v}}')"
S_ENV=$SECRET_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg k "$INJV" \
	'{type:"API_KEY",name:"inj",inject_only:true,fields:{key:$k}}')"
S_INJ=$SECRET_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg s "otpauth://totp/Acme:alice?secret=$SEED&issuer=Acme" \
	'{type:"TOTP",name:"totp",fields:{seed:$s}}')"
S_TOTP=$SECRET_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg c "$CARD_SPACED" \
	'{type:"PAYMENT_CARD",name:"card",fields:{number:$c,cvv:"123",cardholder:"A Lice"}}')"
S_CARD=$SECRET_ID

# ---- what is stored ------------------------------------------------------------------------------
expect_eq "1|149" "$(psql_super "SELECT count(*), min(length(envelope)) FROM scanner_keys
	WHERE org_id = '$A_ORG'")" "one sealed scanner key for org A (envelope of 48 bytes)"
fp_rows() { psql_super "SELECT string_agg(field, ',' ORDER BY field) FROM secret_fingerprints
	WHERE secret_id = '$1'"; }
expect_eq "password" "$(fp_rows "$S_PW")" "PASSWORD: one row (password only, no username/url)"
expect_eq "key" "$(fp_rows "$S_KEY")" "API_KEY: one row (key only, not service)"
expect_eq "value,value" "$(fp_rows "$S_ENV")" "ENV_VAR: the value and its trimmed form"
expect_eq "key" "$(fp_rows "$S_INJ")" "inject-only secrets are fingerprinted too"
expect_eq "seed,seed" "$(fp_rows "$S_TOTP")" "TOTP: the URI and its secret= part"
# As written ("4111 1111 ..."), its tokens are 4 digits: too short for a fingerprint; the digits
# alone give one; the cvv is too short.
expect_eq "number" "$(fp_rows "$S_CARD")" "card: its digits only (cvv too short)"
expect_eq "$(nbytes "$PWV")" "$(psql_super "SELECT len FROM secret_fingerprints
	WHERE secret_id = '$S_PW'")" "the row records the value's length"

# ---- the scanner key: concurrent first writes in a new org agree on one key ----------------------
reg dora@scan.example
D_JWT=$REG_TOKEN D_ORG=$REG_ORG
mkvault "$D_JWT" race
for i in $(seq 1 8); do
	DV[i]=$(canary "race$i")
	curl -s -o "$VT_TMP/race$i" -w '%{http_code}' -X POST -H "Authorization: Bearer $D_JWT" \
		-H 'Content-Type: application/json' --max-time 60 \
		--data-binary "$(jq -nc --arg p "${DV[i]}" --arg n "r$i" \
			'{type:"PASSWORD",name:$n,fields:{password:$p}}')" \
		"$VT_ADDR/api/vault/vaults/$VAULT_ID/secrets" >"$VT_TMP/race$i.status" &
	RACE_PIDS+=("$!")
done
wait "${RACE_PIDS[@]}" # not a bare wait: the server is a child of this shell too
for i in $(seq 1 8); do
	expect_eq 201 "$(cat "$VT_TMP/race$i.status")" "concurrent first write $i"
done
expect_eq 1 "$(psql_super "SELECT count(*) FROM scanner_keys WHERE org_id = '$D_ORG'")" \
	"concurrent first writes: one scanner key"
scan "$(printf '%s\n' "${DV[@]}")" "$D_JWT"
expect_status 200 "scan the racing writes' values"
expect_eq 8 "$(vhits)" "every racing write's value is found (all under the one key)"

# ---- (a) a rule-detected credential --------------------------------------------------------------
AWS_ID="AKIA$(head -c 64 /dev/urandom | base32 | tr -dc 'A-Z2-7' | head -c 16)"
exposures "$A_JWT"
before=$NEXP
scan "aws_access_key_id = $AWS_ID" "$A_JWT"
expect_status 200 "scan an AWS access key id"
expect_jq '[.findings[] | select(.rule_id != "vault-secret")] | length >= 1' "(a) a rule finding"
expect_jq '[.findings[] | select(has("secret_id") or has("field"))] | length == 0' \
	"(a) rule findings carry no secret_id/field"
expect_jq '.findings[0] | (.start | type) == "number" and .end > .start and
	(.severity | ascii_downcase | IN("low", "medium", "high", "critical"))' "(a) finding shape"
absent "(a) reply" "$AWS_ID"
exposures "$A_JWT"
expect_eq $((before + 1)) "$NEXP" "(a) one audit row"
BODY=$AUDIT
expect_jq '.[0].detail.source == "api" and .[0].detail.count >= 1 and
	(.[0].detail.rules | length >= 1) and .[0].detail.secret_ids == [] and
	.[0].resource.type == "org" and .[0].outcome == "success"' "(a) audit detail"
absent "(a) audit rows" "$AWS_ID"

# ---- (b) stored values ------------------------------------------------------------------------
# Plain, with exact byte offsets.
scan "the password is $PWV, really" "$A_JWT"
expect_hit "$S_PW" password 16 $((16 + ${#PWV})) "(b) plain"
# After multi-byte UTF-8: offsets are bytes, not characters.
pre="héllo ✓ 日本 "
scan "$pre$PWV" "$A_JWT"
expect_hit "$S_PW" password "$(nbytes "$pre")" $(($(nbytes "$pre") + ${#PWV})) "(b) after UTF-8"
# Inside JSON.
txt="{\"db\":{\"user\":\"dbuser\",\"password\":\"$PWV\"}}"
pre="{\"db\":{\"user\":\"dbuser\",\"password\":\""
scan "$txt" "$A_JWT"
expect_hit "$S_PW" password ${#pre} $((${#pre} + ${#PWV})) "(b) inside JSON"
# In a URL (a rule may report the URI too; the fingerprint must be there).
pre="postgres://dbuser:"
scan "DATABASE_URL=${pre}$PWV@db.example:5432/app?sslmode=require" "$A_JWT"
expect_hit "$S_PW" password $((13 + ${#pre})) $((13 + ${#pre} + ${#PWV})) "(b) in a URL"
# ANSI colours around the value, and an escape sequence in the middle of it.
E=$'\e'
pre="${E}[1;31m"
scan "${pre}${PWV}${E}[0m" "$A_JWT"
expect_hit "$S_PW" password ${#pre} $((${#pre} + ${#PWV})) "(b) ANSI-coloured"
mid="${E}[32m"
scan "x ${PWV:0:9}${mid}${PWV:9}${E}[0m" "$A_JWT"
expect_hit "$S_PW" password 2 $((2 + ${#PWV} + ${#mid})) "(b) ANSI sequence inside the value"
# Stored with whitespace: found trimmed (one finding), and with its whitespace (one finding).
scan "DB_TOKEN=$ENVV_CORE" "$A_JWT"
expect_hit "$S_ENV" value 9 $((9 + ${#ENVV_CORE})) "(b) trimmed form"
scan "[$ENVV]" "$A_JWT"
expect_status 200 "(b) with its whitespace"
expect_eq 1 "$(hits "$S_ENV")" "(b) with its whitespace: reported once"
# A value full of delimiters, in a shell line and in YAML.
pre="export API_KEY='"
scan "$pre$KEYV'" "$A_JWT"
expect_hit "$S_KEY" key ${#pre} $((${#pre} + ${#KEYV})) "(b) value with delimiters (shell)"
scan "$(printf 'apiVersion: v1\nkind: Secret\nstringData:\n  key: "%s"\n' "$KEYV")" "$A_JWT"
expect_status 200 "(b) value with delimiters (YAML)"
expect_eq 1 "$(hits "$S_KEY")" "(b) value with delimiters (YAML)"
# Part of a delimited value is not the value: its longest token alone (with enough bytes before it
# for the whole value's window), or the value without its last byte.
scan "$(printf 'A%.0s' $(seq 1 60)) ${KEYV##*&} tail" "$A_JWT"
expect_status 200 "(b) the value's longest token alone"
expect_eq 0 "$(hits "$S_KEY")" "(b) the value's longest token alone is no hit"
scan "[${KEYV%?}]" "$A_JWT"
expect_status 200 "(b) the value without its last byte"
expect_eq 0 "$(hits "$S_KEY")" "(b) the value without its last byte is no hit"
# Inject-only, TOTP secret alone, the card number without spaces, and after a NUL.
scan "token=$INJV" "$A_JWT"
expect_hit "$S_INJ" key 6 $((6 + ${#INJV})) "(b) inject-only value"
scan "secret: $SEED" "$A_JWT"
expect_hit "$S_TOTP" seed 8 $((8 + ${#SEED})) "(b) the otpauth secret alone"
scan "card $CARD" "$A_JWT"
expect_hit "$S_CARD" number 5 $((5 + ${#CARD})) "(b) the card digits alone"
api POST /api/vault/scan "{\"text\":\"a\\u0000b $PWV\"}" "$A_JWT"
expect_hit "$S_PW" password 4 $((4 + ${#PWV})) "(b) after a NUL (\\u0000)"
# Everything at once, and the audit row of that scan.
exposures "$A_JWT"
before=$NEXP
scan "$(printf 'p=%s\nk=%s\ni=%s\n' "$PWV" "$KEYV" "$INJV")" "$A_JWT"
expect_status 200 "(b) several values"
expect_eq 3 "$(vhits)" "(b) several values: three findings"
expect_eq "$(printf '%s\n' "$S_INJ" "$S_KEY" "$S_PW" | sort | jq -R . | jq -sc .)" \
	"$(jq -c '[.findings[] | select(.rule_id == "vault-secret") | .secret_id] | sort' <<<"$BODY")" \
	"(b) several values: the secrets"
SECRETS=("$PWV" "$KEYV" "$ENVV_CORE" "$INJV" "$SEED" "$CARD" "${KEYV##*&}")
absent "(b) reply" "${SECRETS[@]}"
exposures "$A_JWT"
expect_eq $((before + 1)) "$NEXP" "(b) exactly one audit row per scan"
BODY=$(jq -c '.[0]' <<<"$AUDIT")
expect_jq '.action == "CREDENTIAL_EXPOSURE_DETECTED" and .actor.type == "user" and
	.detail.source == "api" and .detail.count >= 3 and (.detail.rules | index("vault-secret")) and
	.resource.type == "org"' "(b) audit row"
expect_eq "$A_ORG" "$(jq -r .resource.id <<<"$BODY")" "(b) audit resource: the org"
expect_eq "$(printf '%s\n' "$S_INJ" "$S_KEY" "$S_PW" | sort | jq -R . | jq -sc .)" \
	"$(jq -c .detail.secret_ids <<<"$BODY")" "(b) audit detail: the secret ids, sorted"
BODY=$AUDIT
absent "(b) audit rows" "${SECRETS[@]}"

# More findings than are listed: all counted, 1000 listed, in order, audited with the full count.
scan "$(for _ in $(seq 1 1100); do printf '%s ' "$PWV"; done)" "$A_JWT"
expect_status 200 "(b) 1100 findings"
expect_jq '.count == 1100 and (.findings | length) == 1000 and .truncated == true' \
	"(b) 1100 findings: counted, 1000 listed, truncated"
expect_jq '[.findings[].start] == ([.findings[].start] | sort) and .findings[999].start == 999 * 28' \
	"(b) 1100 findings: the first 1000, sorted by start"
exposures "$A_JWT"
BODY=$AUDIT
expect_jq '.[0].detail.count == 1100' "(b) 1100 findings: the audit row counts them all"

# ---- (c) nothing -----------------------------------------------------------------------------------
exposures "$A_JWT"
before=$NEXP
scan "$(printf 'total 8\ndrwxr-xr-x 2 alice alice 4096 Jan  1 00:00 .\nhello world\n')" "$A_JWT"
expect_status 200 "(c) nothing to find"
expect_jq '.findings == [] and .count == 0 and .truncated == false' "(c) empty findings"
scan "" "$A_JWT"
expect_status 200 "(c) empty text"
expect_jq '.findings == [] and .count == 0' "(c) empty text: nothing"
exposures "$A_JWT"
expect_eq "$before" "$NEXP" "(c) no audit row without a finding"

# ---- who sees what ---------------------------------------------------------------------------------
# Org B: its own secret is found; A's values are not.
reg bob@scan.example
B_JWT=$REG_TOKEN
mkvault "$B_JWT" bprod
BV=$(canary bval)
mksecret "$B_JWT" "$VAULT_ID" "$(jq -nc --arg p "$BV" '{type:"PASSWORD",name:"b",fields:{password:$p}}')"
S_B=$SECRET_ID
scan "mine: $BV" "$B_JWT"
expect_hit "$S_B" password 6 $((6 + ${#BV})) "B finds its own value"
scan "$(printf '%s %s %s %s %s\n' "$PWV" "$KEYV" "$INJV" "$SEED" "$ENVV_CORE")" "$B_JWT"
expect_status 200 "B scans A's values"
expect_eq 0 "$(vhits)" "B gets no fingerprint hit for A's values"
absent "B's reply" "$S_PW" "$S_KEY" "$S_INJ" "$S_TOTP" "$S_ENV"
scan "theirs: $BV" "$A_JWT"
expect_status 200 "A scans B's value"
expect_eq 0 "$(vhits)" "A gets no fingerprint hit for B's value"

# A member of A without any vault role: the hit, without saying which secret.
join "$A_JWT" carol@scan.example member
C_JWT=$JOIN_TOKEN
scan "leak: $PWV" "$C_JWT"
expect_status 200 "member without vault access scans"
expect_eq 1 "$(vhits)" "member: the fingerprint hit is reported"
expect_jq '[.findings[] | select(has("secret_id") or has("field"))] | length == 0' \
	"member: no secret_id/field"
expect_eq 6 "$(jq '.findings[0].start' <<<"$BODY")" "member: offsets still given"
audit_all "$A_JWT" "action=CREDENTIAL_EXPOSURE_DETECTED"
BODY=$(jq -c '.[0]' <<<"$AUDIT")
expect_jq '.detail.secret_ids == [] and (.detail.rules | index("vault-secret")) and
	.actor.email == "carol@scan.example"' "member: audit row without ids"
# Given VIEWER on the vault, the same member sees which secret it is.
grant "$A_JWT" "$VAULT" "$JOIN_USER" VIEWER
scan "leak: $PWV" "$C_JWT"
expect_hit "$S_PW" password 6 $((6 + ${#PWV})) "member with VIEWER sees the secret"

# API tokens: vault:read yes (with ids), audit:read only no.
mktoken "$A_JWT" scanner '["vault:read"]'
scan "leak: $PWV" "$TOK"
expect_hit "$S_PW" password 6 $((6 + ${#PWV})) "vault:read token"
exposures "$A_JWT"
BODY=$AUDIT
expect_jq '.[0].actor.type == "api_token"' "vault:read token: audited as the token"
mktoken "$A_JWT" auditor '["audit:read"]'
scan "leak: $PWV" "$TOK"
expect_status 403 "audit:read token"
expect_code forbidden "audit:read token"

# ---- update and delete -----------------------------------------------------------------------------
# Each step scans more than once: the server's cached set (src/vault/fpcache.c) must follow every
# change, and the scans after the first are answered from it (test_fpcache.sh counts the loads).
for i in 1 2; do
	scan "old: $PWV" "$A_JWT"
	expect_hit "$S_PW" password 5 $((5 + ${#PWV})) "before the update ($i)"
done
NEWV=$(canary newpw)
api PUT "/api/vault/secrets/$S_PW" "$(jq -nc --arg p "$NEWV" '{fields:{password:$p}}')" "$A_JWT"
expect_status 200 "update the password"
for i in 1 2; do
	scan "old: $PWV" "$A_JWT"
	expect_status 200 "scan the old value ($i)"
	expect_eq 0 "$(hits "$S_PW")" "the old value no longer matches ($i)"
	scan "new: $NEWV" "$A_JWT"
	expect_hit "$S_PW" password 5 $((5 + ${#NEWV})) "the new value matches ($i)"
done
api DELETE "/api/vault/secrets/$S_PW" "" "$A_JWT"
expect_status 204 "delete the secret"
for i in 1 2; do
	scan "new: $NEWV old: $PWV" "$A_JWT"
	expect_status 200 "scan after delete ($i)"
	expect_eq 0 "$(vhits)" "nothing matches after delete ($i)"
done
expect_eq 0 "$(psql_super "SELECT count(*) FROM secret_fingerprints WHERE secret_id = '$S_PW'")" \
	"the deleted secret's rows are gone"
# Deleting the vault takes every fingerprint of its secrets with it.
mkvault "$A_JWT" tmp
TV=$(canary tmpval)
mksecret "$A_JWT" "$VAULT_ID" "$(jq -nc --arg p "$TV" '{type:"PASSWORD",name:"t",fields:{password:$p}}')"
S_T=$SECRET_ID
api DELETE "/api/vault/vaults/$VAULT_ID" "" "$A_JWT"
expect_status 204 "delete a vault"
expect_eq 0 "$(psql_super "SELECT count(*) FROM secret_fingerprints WHERE secret_id = '$S_T'")" \
	"a deleted vault's fingerprints are gone"

# ---- fail closed -------------------------------------------------------------------------------------
psql_super "ALTER TABLE secret_fingerprints ADD CONSTRAINT vt_test_fail CHECK (false) NOT VALID"
FV=$(canary failval)
api POST "/api/vault/vaults/$VAULT/secrets" "$(jq -nc --arg p "$FV" \
	'{type:"PASSWORD",name:"failing",fields:{password:$p}}')" "$A_JWT"
case $STATUS in 5??) pass ;; *) fail "fingerprint write failing: expected 5xx, got $STATUS" ;; esac
expect_eq 0 "$(psql_super "SELECT count(*) FROM secrets WHERE name = 'failing'")" \
	"no secret is stored when its fingerprints cannot be"
api PUT "/api/vault/secrets/$S_KEY" "$(jq -nc --arg k "$FV" '{fields:{key:$k}}')" "$A_JWT"
case $STATUS in 5??) pass ;; *) fail "update with fingerprints failing: got $STATUS" ;; esac
expect_eq 1 "$(psql_super "SELECT version FROM secrets WHERE id = '$S_KEY'")" \
	"no new version when its fingerprints cannot be stored"
psql_super "ALTER TABLE secret_fingerprints DROP CONSTRAINT vt_test_fail"
psql_super "ALTER TABLE audit_log ADD CONSTRAINT vt_test_fail
	CHECK (action <> 'CREDENTIAL_EXPOSURE_DETECTED') NOT VALID"
scan "k=$KEYV" "$A_JWT"
case $STATUS in 5??) pass ;; *) fail "scan with audit failing: expected 5xx, got $STATUS" ;; esac
expect_jq 'has("findings") | not' "no findings leave without their audit row"
scan "nothing here" "$A_JWT"
expect_status 200 "a scan that finds nothing needs no audit row"
psql_super "ALTER TABLE audit_log DROP CONSTRAINT vt_test_fail"
scan "k=$KEYV" "$A_JWT"
expect_hit "$S_KEY" key 2 $((2 + ${#KEYV})) "the same scan works once the audit row can be written"

# ---- bad requests ------------------------------------------------------------------------------------
bad() { # bad BODY STATUS CODE WHAT
	api POST /api/vault/scan "$1" "$A_JWT"
	expect_status "$2" "$4"
	expect_code "$3" "$4"
}
bad 'not json' 400 invalid_request "malformed JSON"
bad '["text"]' 400 invalid_request "an array"
bad '"text"' 400 invalid_request "a string"
bad '{}' 400 validation_failed "text missing"
bad '{"text":null}' 400 validation_failed "text null"
bad '{"text":42}' 400 validation_failed "text a number"
bad '{"text":["a"]}' 400 validation_failed "text an array"
bad '{"text":"a","extra":1}' 400 validation_failed "unknown field"
bad '{"text":"a","text":"b"}' 400 invalid_request "duplicate key"
bad '{"text":"\ud800"}' 400 invalid_request "lone surrogate"
bad "$(printf '{"text":"\xff\xfe"}')" 400 invalid_request "invalid UTF-8"
bad '{"text":"a"} trailing' 400 invalid_request "trailing bytes"
absent "error bodies" "$PWV"
STATUS=$(curl -s -o "$VT_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_JWT" \
	-H 'Content-Type: application/json' --data-binary '' "$VT_ADDR/api/vault/scan")
BODY=$(cat "$VT_TMP/body")
expect_status 400 "empty body"
STATUS=$(curl -s -o "$VT_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_JWT" \
	-H 'Content-Type: text/plain' --data-binary '{"text":"a"}' "$VT_ADDR/api/vault/scan")
BODY=$(cat "$VT_TMP/body")
expect_status 415 "wrong media type"
# Size: just under the limit is scanned (and a value at its very end is found); over it is 413.
python3 -c "import json,sys; t='x'*(1048576-64-len(sys.argv[1]))+' '+sys.argv[1]; \
sys.stdout.write(json.dumps({'text':t}))" "$KEYV" >"$VT_TMP/big.json"
STATUS=$(curl -s -o "$VT_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_JWT" \
	-H 'Content-Type: application/json' --data-binary @"$VT_TMP/big.json" "$VT_ADDR/api/vault/scan")
BODY=$(cat "$VT_TMP/body")
expect_status 200 "a text of almost 1 MiB"
expect_eq 1 "$(hits "$S_KEY")" "a value at the end of almost 1 MiB is found"
python3 -c "import json; print(json.dumps({'text':'x'*1048576}))" >"$VT_TMP/huge.json"
STATUS=$(curl -s -o "$VT_TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $A_JWT" \
	-H 'Content-Type: application/json' --data-binary @"$VT_TMP/huge.json" "$VT_ADDR/api/vault/scan")
BODY=$(cat "$VT_TMP/body")
expect_status 413 "over 1 MiB"
scan "leak: $KEYV" ""
expect_status 401 "unauthenticated"
expect_code unauthorized "unauthenticated"
scan "leak: $KEYV" "vt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | head -c 43)"
expect_status 401 "a bad token"

# ---- master key rotation ---------------------------------------------------------------------------
if out=$(vt operator rotate-master --data-dir "$VT_DATA" --settle-ms 0 2>"$VT_TMP/rot.err"); then
	pass
	grep -q '[1-9][0-9]* scanner keys' <<<"$out" && pass ||
		fail "rotate-master does not report re-wrapped scanner keys: $out"
else
	fail "rotate-master: $(cat "$VT_TMP/rot.err")"
fi
expect_eq "0" "$(psql_super "SELECT count(*) FROM scanner_keys WHERE key_version < 2")" \
	"every scanner key is under the new master key version"
expect_eq "2" "$(psql_super "SELECT get_byte(envelope, 8) FROM scanner_keys
	WHERE org_id = '$A_ORG'")" "the envelope header names the new version"
scan "k=$KEYV" "$A_JWT"
expect_hit "$S_KEY" key 2 $((2 + ${#KEYV})) "detection after rotation (the server loads the version)"
NV2=$(canary afterrot)
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$NV2" '{type:"PASSWORD",name:"after",fields:{password:$p}}')"
scan "x $NV2" "$A_JWT"
expect_hit "$SECRET_ID" password 2 $((2 + ${#NV2})) "a secret written after rotation is found"

# ---- no plaintext in the database ----------------------------------------------------------------
PGPASSWORD=$(vt_secret PG_SUPERUSER_PASSWORD) pg_dump -h "$VT_DATA/run" -U postgres -d vaultterm \
	--format=plain >"$VT_TMP/dump.sql"
grep -qF "$NAME_CANARY" "$VT_TMP/dump.sql" && pass ||
	fail "the dump does not contain a secret's name: the search proves nothing"
for v in "$PWV" "$NEWV" "$KEYV" "${KEYV##*&}" "$ENVV_CORE" "$INJV" "$SEED" "$CARD" \
	"${CARD:0:4} ${CARD:4:4}" "$BV" "$TV" "$FV" "$NV2"; do
	if grep -qF -- "$v" "$VT_TMP/dump.sql"; then
		fail "the dump contains a secret value (${v:0:12}...)"
	else
		pass
	fi
done
# Nor is any value in the server's log.
for v in "$PWV" "$NEWV" "$KEYV" "$INJV" "$SEED" "$CARD"; do
	grep -qF -- "$v" "$VT_LOG" && fail "the server log contains a secret value" || pass
done

finish
