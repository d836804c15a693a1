#!/usr/bin/env bash
# The per-org fingerprint generation (migration 0007, docs/scanner.md "Vault fingerprints"): the
# number the servers' shared fingerprint-set caches compare with what they hold.
#  - it changes with every change of the org's fingerprints, in the writer's transaction: a
#    secret's creation, an update of its value, its deletion (ON DELETE CASCADE from secrets), a
#    vault's deletion (cascade through secrets), and not for another org's changes;
#  - a change that rolls back leaves the committed generation as it was, and its number is never
#    handed out again (the next change gets a larger one);
#  - RLS: with app.current_org = B the app role sees no row of A, cannot bump A's (UPDATE touches
#    nothing, INSERT and upsert are refused), and cannot delete any row; without an org it sees
#    nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

vt_start

# gen ORG: the org's committed generation (0 without a row).
gen() {
	psql_super "SELECT coalesce((SELECT generation FROM secret_fp_generations
		WHERE org_id = '$1'), 0)"
}
# expect_gt A B WHAT
expect_gt() {
	if [ "$1" -gt "$2" ]; then pass; else fail "$3: expected $1 > $2"; fi
}
# app_as ORG SQL: the app role in ORG's tenant context (psql's exit status).
app_as() {
	psql_as vaultterm_app "$(vt_secret PG_APP_PASSWORD)" -c "SET app.current_org = '$1'" -c "$2"
}

reg alice@gen.example
A_JWT=$REG_TOKEN A_ORG=$REG_ORG
reg bob@gen.example
B_JWT=$REG_TOKEN B_ORG=$REG_ORG
expect_eq 0 "$(gen "$A_ORG")" "a new org has no generation row (0)"

mkvault "$A_JWT" prod
VAULT=$VAULT_ID
mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$(canary pw)" \
	'{type:"PASSWORD",name:"db",fields:{password:$p}}')"
S1=$SECRET_ID
g1=$(gen "$A_ORG")
expect_gt "$g1" 0 "the first fingerprinted write makes the row"

# B's writes never move A's generation, and A's never move B's.
mkvault "$B_JWT" bvault
B_VAULT=$VAULT_ID
mksecret "$B_JWT" "$B_VAULT" "$(jq -nc --arg p "$(canary bpw)" \
	'{type:"PASSWORD",name:"b",fields:{password:$p}}')"
expect_eq "$g1" "$(gen "$A_ORG")" "another org's write leaves A's generation"
gb=$(gen "$B_ORG")
expect_gt "$gb" 0 "B has its own generation"

api PUT "/api/vault/secrets/$S1" "$(jq -nc --arg p "$(canary pw2)" '{fields:{password:$p}}')" \
	"$A_JWT"
expect_status 200 "update the value"
g2=$(gen "$A_ORG")
expect_gt "$g2" "$g1" "an update of the value bumps the generation"
expect_eq "$gb" "$(gen "$B_ORG")" "A's update leaves B's generation"

mksecret "$A_JWT" "$VAULT" "$(jq -nc --arg p "$(canary pw3)" \
	'{type:"API_KEY",name:"k",fields:{key:$p}}')"
S2=$SECRET_ID
g3=$(gen "$A_ORG")
expect_gt "$g3" "$g2" "a second secret bumps it"

api DELETE "/api/vault/secrets/$S1" "" "$A_JWT"
expect_status 204 "delete a secret"
g4=$(gen "$A_ORG")
expect_gt "$g4" "$g3" "deleting a secret (ON DELETE CASCADE to its fingerprints) bumps it"

# A vault's deletion: secrets cascade, and their fingerprints with them.
mkvault "$A_JWT" tmp
mksecret "$A_JWT" "$VAULT_ID" "$(jq -nc --arg p "$(canary tv)" \
	'{type:"PASSWORD",name:"t",fields:{password:$p}}')"
ST=$SECRET_ID
g5=$(gen "$A_ORG")
api DELETE "/api/vault/vaults/$VAULT_ID" "" "$A_JWT"
expect_status 204 "delete a vault"
expect_eq 0 "$(psql_super "SELECT count(*) FROM secret_fingerprints WHERE secret_id = '$ST'")" \
	"the vault's fingerprints are gone"
g6=$(gen "$A_ORG")
expect_gt "$g6" "$g5" "deleting a vault (cascade through secrets) bumps it"

# A change that rolls back: the committed generation stays, its number is never reused.
out=$(app_as "$A_ORG" "BEGIN;
DELETE FROM secret_fingerprints WHERE secret_id = '$S2';
SELECT generation FROM secret_fp_generations;
ROLLBACK;")
rolled=$(tail -n1 <<<"$out")
expect_gt "$rolled" "$g6" "inside the transaction the delete has bumped it"
expect_eq "$g6" "$(gen "$A_ORG")" "after the rollback the committed generation is unchanged"
api PUT "/api/vault/secrets/$S2" "$(jq -nc --arg p "$(canary k2)" '{fields:{key:$p}}')" "$A_JWT"
expect_status 200 "update after the rollback"
g7=$(gen "$A_ORG")
expect_gt "$g7" "$rolled" "the next change gets a number larger than the rolled-back one"

# ---- RLS ------------------------------------------------------------------------------------------
expect_eq "1|$gb" "$(app_as "$B_ORG" "SELECT count(*), max(generation) FROM secret_fp_generations")" \
	"as B: only B's row is visible"
expect_eq 0 "$(app_as "$B_ORG" "SELECT count(*) FROM secret_fp_generations
	WHERE org_id = '$A_ORG'")" "as B: A's row is not readable"
expect_eq "" "$(app_as "$B_ORG" "UPDATE secret_fp_generations SET generation = generation + 1000
	WHERE org_id = '$A_ORG' RETURNING org_id")" "as B: an UPDATE of A's row touches nothing"
expect_eq "$g7" "$(gen "$A_ORG")" "A's generation unchanged by B's UPDATE"
if err=$(app_as "$B_ORG" "INSERT INTO secret_fp_generations (org_id, generation)
	VALUES ('$A_ORG', 1)" 2>&1); then
	fail "as B: inserting a row for A succeeded"
else
	grep -q 'row-level security' <<<"$err" && pass || fail "as B: insert for A: $err"
fi
if err=$(app_as "$B_ORG" "INSERT INTO secret_fp_generations (org_id, generation)
	VALUES ('$A_ORG', nextval('secret_fp_generation_seq')) ON CONFLICT (org_id)
	DO UPDATE SET generation = excluded.generation" 2>&1); then
	fail "as B: upserting A's row succeeded"
else
	grep -q 'row-level security' <<<"$err" && pass || fail "as B: upsert of A: $err"
fi
expect_eq "$g7" "$(gen "$A_ORG")" "A's generation unchanged by B's attempts"
if err=$(app_as "$A_ORG" "DELETE FROM secret_fp_generations" 2>&1); then
	fail "the app role deleted a generation row"
else
	grep -q 'permission denied' <<<"$err" && pass || fail "delete: $err"
fi
expect_eq 0 "$(psql_app "SELECT count(*) FROM secret_fp_generations")" \
	"without an org context no row is visible"
expect_eq "t|t" "$(psql_super "SELECT relrowsecurity, relforcerowsecurity FROM pg_class
	WHERE relname = 'secret_fp_generations'")" "RLS enabled and forced"

finish
