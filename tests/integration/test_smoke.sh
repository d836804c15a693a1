#!/usr/bin/env bash
# Smoke: the embedded server starts, answers /health, registers a user, and stops cleanly on
# SIGTERM together with its PostgreSQL cluster; a second start reuses the data.
. "$(dirname "$0")/lib.sh"

vt_start
api GET /health
expect_status 200 "health"
expect_jq '.status == "ok" and .db == "ok" and (.version | type == "string")' "health body"
expect_jq 'has("request_id") | not' "health has no error"

token=$(register_user smoke@example.com)
api GET /api/auth/me "" "$token"
expect_status 200 "me"
expect_jq '.user.email == "smoke@example.com" and .org_role == "owner"' "me body"

# Secrets file and data dir permissions.
expect_eq 600 "$(stat -c %a "$VT_DATA/dev-secrets.env")" "dev secrets mode"
expect_eq 700 "$(stat -c %a "$VT_DATA/pg")" "cluster dir mode"
# The cluster listens on no TCP port.
expect_eq "" "$(psql_super "SHOW listen_addresses")" "listen_addresses empty"

vt_stop
if pgrep -f "postgres -D $VT_DATA/pg" >/dev/null; then
	fail "the cluster is still running after the server stopped"
else
	pass
fi
grep -q "PostgreSQL cluster stopped" "$VT_LOG" && pass || fail "no clean cluster stop in the log"

# Restart: same data, same account.
vt_start
api POST /api/auth/login '{"email":"smoke@example.com","password":"correct horse battery staple"}'
expect_status 200 "login after restart"
finish
