#!/usr/bin/env bash
# Sessions a crashed server left open are closed as "interrupted" by the next broker that starts
# (and then every minute): a session whose heartbeat stopped more than 120 s ago has no server.
# A session whose heartbeat is fresh — another server's live session — is left alone.
. "$(dirname "$0")/lib.sh"

vt_start
token=$(register_user sweep@example.com)
api GET /api/orgs/current "" "$token"
expect_status 200 "current org"
org=$(jq -r .id <<<"$BODY")

stale=$(cat /proc/sys/kernel/random/uuid)
fresh=$(cat /proc/sys/kernel/random/uuid)
psql_super "INSERT INTO terminal_sessions (id, org_id, profile_name, token_id, kind, started_at,
	heartbeat_at) VALUES
	('$stale', '$org', 'p', gen_random_uuid(), 'shell', now() - interval '1 hour',
	 now() - interval '10 minutes'),
	('$fresh', '$org', 'p', gen_random_uuid(), 'shell', now() - interval '1 hour',
	 now() - interval '10 seconds')" >/dev/null

# The sweep runs when the broker starts.
vt_stop
vt_start
got=""
for _ in $(seq 1 100); do
	got=$(psql_super "SELECT end_reason FROM terminal_sessions WHERE id = '$stale'")
	[ "$got" = "interrupted" ] && break
	sleep 0.1
done
expect_eq "$got" "interrupted" "a session silent for 10 minutes is closed as interrupted"
expect_eq "$(psql_super "SELECT ended_at = heartbeat_at FROM terminal_sessions
	WHERE id = '$stale'")" "t" "it ends at its last heartbeat"
expect_eq "$(psql_super "SELECT coalesce(end_reason, 'open') FROM terminal_sessions
	WHERE id = '$fresh'")" "open" "a session with a fresh heartbeat is left alone"
grep -q 'closed 1 session(s) left open by a stopped server' "$VT_LOG" && pass ||
	fail "the sweep is not logged"

# The app role cannot close another org's sessions through the sweep's table policy.
expect_eq "$(psql_app "UPDATE terminal_sessions SET end_reason = 'x' RETURNING 1" | wc -l)" \
	"0" "the app role sees no session without an org context"
finish
