#!/usr/bin/env bash
# Graceful shutdown and process hygiene. SIGTERM (and SIGINT) while requests are in flight — slow
# argon2id logins and requests whose body is still arriving — must let every accepted request
# finish with its normal status, refuse new connections meanwhile, exit 0 within the grace period,
# log the drain and stop the embedded PostgreSQL. A client that stalls past SHUTDOWN_GRACE_MS cannot
# hold the server up. The running server is not dumpable, has core dumps off, and has scrubbed
# JWT_SECRET / DEV_MASTER_KEY from its environment (and so from its children's).
. "$(dirname "$0")/lib.sh"

command -v ss >/dev/null || { echo "missing tool: ss (iproute2)" >&2; exit 1; }

PW='correct horse battery staple'
N_LOGINS=8
N_SLOW=2
SLOW_DELAY=2 # seconds between a slow request's headers and its body
GRACE_MS=20000

port_of() { sed 's/.*://' <<<"$VT_ADDR"; }

# accepted PID PORT: how many connections to PORT the server process has accepted (owns).
accepted() { ss -Htnp state established "( sport = :$2 )" 2>/dev/null | grep -c "pid=$1," || true; }

# slow_login OUTFILE DELAY: a login whose body arrives DELAY s after its headers; writes the
# response status line (empty if the connection was reset) to OUTFILE.
slow_login() {
	local out=$1 delay=$2 body port
	body=$(jq -nc --arg p "$PW" '{email:"drain@example.com",password:$p}')
	port=$(port_of)
	(
		if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then echo "connect-failed" >"$out"; exit 0; fi
		printf 'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
			"${#body}" >&3
		# A sleep that ends early if the server closes the connection (no stray child left).
		read -r -t "$delay" -u 3 _ 2>/dev/null || true
		printf '%s' "$body" >&3 2>/dev/null || true
		{ head -n1 <&3 | tr -d '\r' >"$out"; } 2>/dev/null || true
	) &
	BG+=($!)
}

# wait_gone PID SECONDS: 0 once PID has exited, 1 if still running after SECONDS.
wait_gone() {
	local i
	for i in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

# drain_round SIGNAL: the whole in-flight shutdown scenario with one signal.
drain_round() {
	local sig=$1 port pid pgpid i n done_n rc st
	local dir=$VT_TMP/round-$sig
	mkdir -p "$dir"
	BG=()
	vt_start SHUTDOWN_GRACE_MS=$GRACE_MS
	port=$(port_of)
	pid=$VT_PID
	pgpid=$(pgrep -f "postgres -D $VT_DATA/pg" | head -n1 || true)
	[ -n "$pgpid" ] && pass || fail "$sig: no embedded postgres found"

	# Slow requests first (they hold the drain open), then the argon2id logins.
	for i in $(seq 1 $N_SLOW); do slow_login "$dir/slow.$i" $SLOW_DELAY; done
	for i in $(seq 1 $N_LOGINS); do
		curl -s -o "$dir/login.$i.body" -w '%{http_code}' --max-time 60 \
			-H 'Content-Type: application/json' \
			--data-binary "$(jq -nc --arg p "$PW" '{email:"drain@example.com",password:$p}')" \
			"$VT_ADDR/api/auth/login" >"$dir/login.$i" 2>"$dir/login.$i.err" &
		BG+=($!)
	done
	# Signal as soon as every request has been accepted by the server process (it owns the
	# connection, or already answered): none is left in the kernel's accept backlog, where a
	# connection is not yet the server's and closing the listener resets it.
	for _ in $(seq 1 200); do
		done_n=0
		for i in $(seq 1 $N_LOGINS); do [ -s "$dir/login.$i" ] && done_n=$((done_n + 1)); done
		n=$(accepted "$pid" "$port")
		[ $((done_n + n)) -ge $((N_LOGINS + N_SLOW)) ] && break
		sleep 0.02
	done
	expect_eq $((N_LOGINS + N_SLOW)) $((done_n + n)) "$sig: every request reached the server before the signal"
	# The scenario only means something if argon2id logins are still running at the signal.
	[ "$n" -gt $N_SLOW ] && pass || fail "$sig: only $n requests in flight at the signal"
	kill -"$sig" "$pid"

	# While draining: the server is alive but accepts no new connection.
	sleep 0.3
	rc=0
	curl -s -o /dev/null --max-time 3 "$VT_ADDR/health" 2>/dev/null || rc=$?
	if kill -0 "$pid" 2>/dev/null; then
		pass
		expect_eq 7 "$rc" "$sig: a new connection during the drain is refused (curl exit 7)"
	else
		fail "$sig: the server exited before the slow requests could finish"
	fi

	if wait_gone "$pid" $((GRACE_MS / 1000)); then pass; else
		fail "$sig: still running after the ${GRACE_MS} ms grace period"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	st=0
	wait "$pid" 2>/dev/null || st=$?
	VT_PID=""
	expect_eq 0 "$st" "$sig: exit status"

	for p in "${BG[@]}"; do
		if ! wait_gone "$p" 30; then fail "$sig: a client is stuck"; kill "$p" 2>/dev/null || true; fi
		wait "$p" 2>/dev/null || true
	done
	for i in $(seq 1 $N_LOGINS); do
		expect_eq 200 "$(cat "$dir/login.$i")" "$sig: in-flight login $i completed (curl: $(cat "$dir/login.$i.err"))"
		jq -e '.token | type == "string"' "$dir/login.$i.body" >/dev/null 2>&1 && pass ||
			fail "$sig: in-flight login $i has no token: $(cat "$dir/login.$i.body")"
	done
	for i in $(seq 1 $N_SLOW); do
		expect_eq "HTTP/1.1 200 OK" "$(cat "$dir/slow.$i" 2>/dev/null)" "$sig: slow request $i completed"
	done

	grep -q "received SIG$sig: draining requests and shutting down" "$VT_LOG" && pass ||
		fail "$sig: no drain message in the log"
	grep -q 'grace period over' "$VT_LOG" && fail "$sig: the drain hit the grace period" || pass
	n=$(awk "/received SIG$sig/ {f = 1; next} f && /POST \/api\/auth\/login 200 /" "$VT_LOG" | wc -l)
	[ "$n" -gt $N_SLOW ] && pass || fail "$sig: only $n logins completed during the drain (log)"
	grep -q ' aborted$' "$VT_LOG" && fail "$sig: a request was aborted" || pass
	grep -q 'PostgreSQL cluster stopped' "$VT_LOG" && pass || fail "$sig: no cluster stop in the log"
	grep -qE 'INFO .* stopped$' "$VT_LOG" && pass || fail "$sig: no final 'stopped' line"
	if [ -n "$pgpid" ] && kill -0 "$pgpid" 2>/dev/null; then fail "$sig: postgres is still running"; else pass; fi
	if pgrep -f "postgres -D $VT_DATA/pg" >/dev/null; then fail "$sig: a postgres process remains"; else pass; fi
	rc=0
	curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$port/health" 2>/dev/null || rc=$?
	expect_eq 7 "$rc" "$sig: connection refused after exit"
}

# --- hygiene of the running server ----------------------------------------------------------------

JWT=$(openssl rand -hex 24)
# The data dir already exists: the key must be the one it was created with (the server refuses
# any other), but given through the environment this time, so the scrub is observable.
if [ ! -f "$VT_DATA/dev-secrets.env" ]; then
	vt_start
	vt_stop
fi
KEY=$(vt_secret DEV_MASTER_KEY)
vt_start JWT_SECRET="$JWT" DEV_MASTER_KEY="$KEY"
pid=$VT_PID
token=$(register_user drain@example.com "$PW")
# The JWT it issued is HS256 under the JWT_SECRET we passed: the variable really was consumed.
sig=$(printf '%s' "${token%.*}" | openssl dgst -sha256 -mac HMAC -macopt "key:$JWT" -binary |
	base64 | tr '+/' '-_' | tr -d '=\n')
expect_eq "$sig" "${token##*.}" "the server signs with the JWT_SECRET it was given"

core=$(awk '/^Max core file size/ {print $5 " " $6}' "/proc/$pid/limits")
expect_eq "0 0" "$core" "core dumps disabled (soft and hard RLIMIT_CORE)"
if [ "$(id -u)" -ne 0 ]; then
	# Non-dumpable: even its own user may not read its environment or memory.
	cat "/proc/$pid/environ" >/dev/null 2>&1 && fail "environ of a non-dumpable process is readable" || pass
else
	env_dump=$(tr '\0' '\n' <"/proc/$pid/environ")
	grep -qF -- "$JWT" <<<"$env_dump" && fail "JWT_SECRET value still in /proc/<pid>/environ" || pass
	grep -qF -- "$KEY" <<<"$env_dump" && fail "DEV_MASTER_KEY value still in /proc/<pid>/environ" || pass
	grep -q '^PORT=0$' <<<"$env_dump" && pass || fail "environ check is not reading the server's environment"
	pgpid=$(pgrep -f "postgres -D $VT_DATA/pg" | head -n1 || true)
	pg_env=$(tr '\0' '\n' <"/proc/$pgpid/environ" 2>/dev/null || true)
	[ -n "$pg_env" ] && pass || fail "cannot read the postgres child's environment"
	grep -qE -- "$JWT|$KEY|^JWT_SECRET=|^DEV_MASTER_KEY=" <<<"$pg_env" &&
		fail "the postgres child inherited a secret variable" || pass
fi
if grep -qE '^(Uid|Gid):' "/proc/$pid/status"; then pass; else fail "cannot read /proc/<pid>/status"; fi
# The server never logs the secrets it was given.
grep -qF -- "$JWT" "$VT_LOG" && fail "JWT_SECRET in the log" || pass
grep -qF -- "$KEY" "$VT_LOG" && fail "DEV_MASTER_KEY in the log" || pass
vt_stop

# --- in-flight requests survive SIGTERM and SIGINT -----------------------------------------------

drain_round TERM
drain_round INT

# --- a stalled client cannot hold the server past the grace period -----------------------------------

BG=()
vt_start SHUTDOWN_GRACE_MS=1000
pid=$VT_PID
slow_login "$VT_TMP/stalled" 20
for _ in $(seq 1 50); do [ "$(accepted "$pid" "$(port_of)")" -ge 1 ] && break; sleep 0.05; done
sleep 0.3 # let it read the headers: the request is now in flight
t0=$(date +%s%N)
kill -TERM "$pid"
if wait_gone "$pid" 15; then pass; else fail "stalled client: server still running 15 s after SIGTERM"; kill -KILL "$pid"; fi
ms=$((($(date +%s%N) - t0) / 1000000))
st=0
wait "$pid" 2>/dev/null || st=$?
VT_PID=""
[ "$ms" -ge 900 ] && pass || fail "stalled client: exited after ${ms} ms, before the 1000 ms grace"
[ "$ms" -lt 10000 ] && pass || fail "stalled client: took ${ms} ms to stop"
expect_eq 0 "$st" "stalled client: exit status"
grep -q 'grace period over with requests still in flight' "$VT_LOG" && pass ||
	fail "stalled client: no grace-period warning"
if pgrep -f "postgres -D $VT_DATA/pg" >/dev/null; then fail "stalled client: postgres remains"; else pass; fi
for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done

finish
