#!/usr/bin/env bash
# Who gets through the SSH broker, and with which credential (issue 6, "Show it"), with the real
# OpenSSH client against the broker and a real sshd as the target (sshd_lib.sh):
#  - every kind of credential is injected: a password, Ed25519, RSA and ECDSA keys and a
#    passphrase-protected key — the target's log shows it accepted exactly that key (fingerprint);
#  - a one-time ticket (POST /api/ssh/tickets) logs in once: reused, expired (expires_at moved
#    into the past), made up, or given for another profile, it is refused; an API token needs
#    ssh:connect to get one;
#  - a login key not registered (or deleted) is refused;
#  - a profile of another org cannot be reached, and the refusal is exactly the one for a profile
#    that does not exist (also for a ticket); the same profile name in two orgs leads each user
#    to their own org's;
#  - removing the user's vault access (DELETE vault member) makes the next connect fail before the
#    target is contacted with the credential, audited; given back, it works again; a user removed
#    from the org is refused;
#  - host keys: an empty pin is trusted on first use (HOST_KEY_PINNED, the profile then holds the
#    target's key); a wrong pin and a changed target key (sshd_rekey) are refused with
#    HOST_KEY_MISMATCH (critical) and the credential is never offered to that target.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"
. "$(dirname "$0")/sshd_lib.sh"
. "$(dirname "$0")/broker_lib.sh"

sshd_start
vt_start
broker_world

# refused WHAT: the last bssh was refused at login (ssh's 255, "Permission denied").
refused() {
	if [ "$RC" -eq 255 ] && grep -q 'Permission denied' <<<"$ERR" && [ -z "$OUT" ]; then pass; else
		fail "$1: expected a login refusal (255), got $RC; out: '${OUT:0:200}'; err: '${ERR:0:300}'"
	fi
}
# denied WHAT: refused after login: exit 1 and one line "vaultterm: <reason>" (docs/broker.md §2).
denied() {
	if [ "$RC" -eq 1 ] && [ -z "$OUT" ] && [ "$(grep -c . <<<"$ERR")" -eq 1 ] &&
		grep -q '^vaultterm: ' <<<"$ERR"; then pass; else
		fail "$1: expected exit 1 and one 'vaultterm:' line, got $RC; out: '${OUT:0:200}'; err: '${ERR:0:300}'"
	fi
}
fp() { ssh-keygen -lf "$SSHD_KEYS/$1.pub" | cut -d' ' -f2; }

# ---- every kind of credential is injected ---------------------------------------------------------
for k in pw ed25519 rsa ecdsa pass; do
	user=$SSHD_KEY_USER
	[ "$k" = pw ] && user=$SSHD_PW_USER
	bssh "$BOB_KEY" "t-$k" -- 'id -un'
	expect_eq "0 $user" "$RC $OUT" "t-$k: logged in as the target account (stderr: $ERR)"
done
for k in ed25519 rsa ecdsa ed25519_pass; do
	# (sshd -e ends its lines with \r\n)
	tr -d '\r' <"$(sshd_log)" | grep -q "^Accepted publickey for $SSHD_KEY_USER from 127.0.0.1 .* $(fp "$k")\$" &&
		pass || fail "the target never accepted the $k key ($(fp "$k"))"
done
grep -q "^Accepted password for $SSHD_PW_USER from 127.0.0.1 " "$(sshd_log)" && pass ||
	fail "the target never accepted the password"

# ---- tickets ------------------------------------------------------------------------------------
ticket "$B_JWT" "${PID[ed25519]}"
expect_jq '(.ssh_command | test("-p '"$VT_SSH_PORT"'( |$)")) and (.ssh_command | test("t-ed25519@"))
	and (.ticket | startswith("vtt_"))' "the ticket's ssh_command"
T1=$TICKET
bssh_ticket "$T1" t-ed25519 -- 'echo ticket-ok'
expect_eq "0 ticket-ok" "$RC $OUT" "a fresh ticket logs in (stderr: $ERR)"
n=$(target_accepts)
bssh_ticket "$T1" t-ed25519 -- 'echo ticket-ok'
refused "a reused ticket"
ticket "$B_JWT" "${PID[ed25519]}"
T2=$TICKET
expect_eq 1 "$(psql_super "WITH u AS (UPDATE ssh_tickets SET expires_at = now() - interval '1 second'
	WHERE ticket_hash = sha256(convert_to('$T2', 'UTF8')) RETURNING 1) SELECT count(*) FROM u")" \
	"the ticket's row (its SHA-256) moved into the past"
bssh_ticket "$T2" t-ed25519 -- 'echo ticket-ok'
refused "an expired ticket"
ticket "$B_JWT" "${PID[ed25519]}"
bssh_ticket "$TICKET" t-rsa -- 'echo ticket-ok'
if [ "$RC" -eq 1 ]; then denied "a ticket for t-ed25519 given for t-rsa"; else
	refused "a ticket for t-ed25519 given for t-rsa"; fi
bssh_ticket "vtt_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')" t-ed25519 -- true
refused "a made-up ticket"
expect_eq "$n" "$(target_accepts)" "no refused ticket reached the target"
# API tokens: ssh:connect (and vault:read, for the credential) gets a ticket, without ssh:connect
# not.
mktoken "$A_JWT" connector '["ssh:connect","vault:read"]'
CONNECTOR=$TOK_ID
api POST /api/ssh/tickets "$(jq -nc --arg p "${PID[ed25519]}" '{profile_id:$p}')" "$TOK"
expect_status 201 "a ticket for an ssh:connect token"
bssh_ticket "$(jq -r .ticket <<<"$BODY")" t-ed25519 -- 'echo token-ok'
expect_eq "0 token-ok" "$RC $OUT" "the token's ticket logs in (stderr: $ERR)"
api GET "/api/terminal/sessions?limit=1" "" "$A_JWT"
expect_jq '(.sessions // .items)[0] | .token_id == "'"$CONNECTOR"'" and .user_id == null' \
	"the session is the token's"
mktoken "$A_JWT" reader '["vault:read","audit:read"]'
api POST /api/ssh/tickets "$(jq -nc --arg p "${PID[ed25519]}" '{profile_id:$p}')" "$TOK"
expect_status 403 "a ticket for a token without ssh:connect"

# ---- login keys ---------------------------------------------------------------------------------
stranger=$(client_key stranger)
bssh "$stranger" t-ed25519 -- 'echo in'
refused "a key never registered"
grep -q 'Permission denied' <<<"$ERR" && pass || fail "unregistered key: '$ERR'"
mkloginkey "$B_JWT" bob2
bssh "$LOGIN_KEY" t-ed25519 -- 'echo in'
expect_eq "0 in" "$RC $OUT" "a second registered key logs in"
api DELETE "/api/ssh/keys/$LOGIN_KEY_ID" "" "$B_JWT"
expect_status 204 "delete the second key"
bssh "$LOGIN_KEY" t-ed25519 -- 'echo in'
refused "a deleted key"

# ---- another org -------------------------------------------------------------------------------
reg "carol-$(openssl rand -hex 3)@other.example"
C_JWT=$REG_TOKEN
mkvault "$C_JWT" other
mksecret "$C_JWT" "$VAULT_ID" "$(jq -nc --arg p "$SSHD_PASSWORD" '{type:"PASSWORD", name:"pw",
	fields:{password:$p}}')"
C_SECRET=$SECRET_ID
mkprofile "$C_JWT" b-only "$C_SECRET" "$SSHD_PW_USER" "$(sshd_host_key_line)"
C_PROFILE=$PROFILE_ID
mkprofile "$C_JWT" t-ed25519 "$C_SECRET" "$SSHD_PW_USER" "$(sshd_host_key_line)"
mkloginkey "$C_JWT" carol
CAROL_KEY=$LOGIN_KEY
bssh "$CAROL_KEY" b-only -- 'id -un'
expect_eq "0 $SSHD_PW_USER" "$RC $OUT" "carol reaches her org's profile (stderr: $ERR)"
bssh "$CAROL_KEY" t-ed25519 -- 'id -un'
expect_eq "0 $SSHD_PW_USER" "$RC $OUT" "carol's t-ed25519 is her org's"
bssh "$BOB_KEY" t-ed25519 -- 'id -un'
expect_eq "0 $SSHD_KEY_USER" "$RC $OUT" "bob's t-ed25519 is his org's"
n=$(target_accepts)
bssh "$BOB_KEY" b-only -- 'id -un'
denied "bob to another org's profile"
other_err=$ERR other_rc=$RC
bssh "$BOB_KEY" "no-such-$(openssl rand -hex 4)" -- 'id -un'
denied "bob to a profile that does not exist"
expect_eq "$other_rc $(sed "s/no-such-[0-9a-f]*/NAME/g" <<<"$ERR")" \
	"$other_rc $(sed "s/b-only/NAME/g" <<<"$other_err")" \
	"another org's profile is refused exactly like a missing one"
expect_eq "$n" "$(target_accepts)" "the refused profiles never reached the target"
api POST /api/ssh/tickets "$(jq -nc --arg p "$C_PROFILE" '{profile_id:$p}')" "$B_JWT"
expect_status 404 "a ticket for another org's profile"
sig_other=$(err_sig)
api POST /api/ssh/tickets "$(jq -nc --arg p "$(uuid_rand)" '{profile_id:$p}')" "$B_JWT"
expect_status 404 "a ticket for a profile that does not exist"
expect_eq "$(err_sig)" "$sig_other" "ticket: another org's profile looks like a missing one"

# ---- vault access removed, then given back; org membership removed ---------------------------------
bssh "$BOB_KEY" t-rsa -- 'echo before'
expect_eq "0 before" "$RC $OUT" "bob connects while he may read the vault"
api DELETE "/api/vault/vaults/$VAULT/members/$B_USER" "" "$A_JWT"
[ "$STATUS" = 204 ] || [ "$STATUS" = 200 ] && pass || fail "remove bob from the vault: $STATUS $BODY"
n=$(target_accepts)
bssh "$BOB_KEY" t-rsa -- 'echo after'
denied "bob without vault access"
grep -qiE 'access|permission|may not|denied|not allowed|forbidden|refused' <<<"$ERR" && pass ||
	fail "no clear refusal without vault access: '$ERR'"
expect_eq "$n" "$(target_accepts)" "without vault access the credential never reached the target"
audit_all "$A_JWT"
jq -e --arg u "$B_USER" '[.[] | select((.action == "SESSION_DENIED" or
	.action == "SSH_LOGIN_DENIED") and .actor.id == $u)] | length >= 1' <<<"$AUDIT" >/dev/null &&
	pass || fail "the refusal without vault access is not audited (SESSION_DENIED by bob)"
grant "$A_JWT" "$VAULT" "$B_USER" VIEWER
bssh "$BOB_KEY" t-rsa -- 'echo again'
expect_eq "0 again" "$RC $OUT" "access given back: bob connects again (stderr: $ERR)"
api DELETE "/api/orgs/current/members/$B_USER" "" "$A_JWT"
[ "$STATUS" = 204 ] || [ "$STATUS" = 200 ] && pass || fail "remove bob from the org: $STATUS $BODY"
bssh "$BOB_KEY" t-rsa -- 'echo gone'
[ "$RC" -ne 0 ] && [ "$OUT" != gone ] && pass || fail "a user removed from the org still connects"
refused "a user removed from the org (his key no longer logs in)"

# ---- host keys: trust on first use, a wrong pin, a changed key -------------------------------------
mkprofile "$A_JWT" t-tofu "${S[ed25519]}" "$SSHD_KEY_USER"
TOFU=$PROFILE_ID
expect_jq '.host_key == null or .host_key == ""' "a new profile without a pin"
bssh "$ALICE_KEY" t-tofu -- 'echo tofu'
expect_eq "0 tofu" "$RC $OUT" "first connect to an unpinned profile (stderr: $ERR)"
bssh "$ALICE_KEY" t-tofu -- 'echo tofu'
expect_eq "0 tofu" "$RC $OUT" "second connect, now pinned"
api GET "/api/ssh/profiles/$TOFU" "" "$A_JWT"
expect_eq "$(sshd_host_key_line ed25519)" "$(jq -r '.host_key // ""' <<<"$BODY" | cut -d' ' -f1,2)" \
	"the profile now pins the target's Ed25519 key"
audit_all "$A_JWT" "action=HOST_KEY_PINNED"
expect_eq 1 "$(jq --arg p "$TOFU" '[.[] | select(tostring | contains($p))] | length' <<<"$AUDIT")" \
	"one HOST_KEY_PINNED row for the profile"
wrong=$(client_key wrong-host)
mkprofile "$A_JWT" t-wrong "${S[ed25519]}" "$SSHD_KEY_USER" "$(cut -d' ' -f1,2 "$wrong.pub")"
n=$(target_accepts)
bssh "$ALICE_KEY" t-wrong -- 'echo wrong'
[ "$RC" -ne 0 ] && [ "$OUT" != wrong ] && pass || fail "a wrong pin was accepted"
grep -qi 'host key' <<<"$ERR" && pass || fail "wrong pin: no clear message: '$ERR'"
expect_eq "$n" "$(target_accepts)" "a wrong pin: the credential never reached the target"

PINNED=$(sshd_host_key_line ed25519)
sshd_rekey
for prof in t-tofu t-ed25519; do
	bssh "$ALICE_KEY" "$prof" -- 'echo changed'
	[ "$RC" -ne 0 ] && [ "$OUT" != changed ] && pass || fail "$prof: a changed host key was accepted"
	grep -qi 'host key' <<<"$ERR" && pass || fail "$prof: changed host key: no clear message: '$ERR'"
done
expect_eq 0 "$(target_accepts)" "the changed target was never offered the credential"
audit_all "$A_JWT" "action=HOST_KEY_MISMATCH"
for p in "$TOFU" "${PID[ed25519]}"; do
	expect_eq 1 "$(jq --arg p "$p" '[.[] | select(tostring | contains($p))] | length' <<<"$AUDIT")" \
		"one HOST_KEY_MISMATCH row for profile $p"
done
# The events feed (all pages) gives the catalog's severity.
EVENTS='[]'
cursor=""
while :; do
	api GET "/api/events/v1${cursor:+?cursor=$cursor}" "" "$A_JWT"
	expect_status 200 "GET /api/events/v1"
	[ "$STATUS" = 200 ] || break
	EVENTS=$(printf '%s\n%s' "$EVENTS" "$BODY" | jq -cs '.[0] + .[1].events')
	cursor=$(jq -r '.next_cursor // empty' <<<"$BODY")
	[ -n "$cursor" ] && [ "$(jq '.events | length' <<<"$BODY")" -gt 0 ] || break
done
BODY=$EVENTS
expect_jq '[.[] | select(.action == "HOST_KEY_MISMATCH") | .severity] | length >= 3 and
	all(. == "critical")' "HOST_KEY_MISMATCH events (3), critical"
api GET "/api/ssh/profiles/$TOFU" "" "$A_JWT"
expect_eq "$PINNED" "$(jq -r '.host_key // ""' <<<"$BODY" | cut -d' ' -f1,2)" \
	"a mismatch does not re-pin the profile"

server_stops_clean
finish
