#!/usr/bin/env bash
# Concurrent writers on one secret. 16 clients (each its own vault:write API token, so the audit
# trail tells them apart) are released together through a FIFO barrier; each loops
# read version → PUT with cas=version → on 409 version_mismatch read again, until it has landed
# N updates with values of its own. Proves
#  - no lost update: the final version is 1 + 16*N, secret_versions holds exactly versions
#    1..1+16*N (no gap, no duplicate), and the versions the clients were answered are exactly
#    2..1+16*N, each once;
#  - every refusal was a 409 version_mismatch (nothing else: no 500, no 503 under contention) and
#    left nothing behind (no version, no audit row);
#  - the audit trail has exactly 16*N SECRET_UPDATED rows, versions 2..1+16*N each once, and each
#    client's rows carry exactly the versions that client was answered;
#  - the last reveal returns the value written as the highest version;
# and, without cas, 16 clients writing at once all succeed with contiguous versions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vault_lib.sh"

vt_start

CLIENTS=16
N=5        # updates each client lands with cas
M=3        # updates each client makes without cas
MAX_TRIES=400

reg olivia@vc.example
O_JWT=$REG_TOKEN
mkvault "$O_JWT" concurrency
V=$VAULT_ID
mksecret "$O_JWT" "$V" '{"type":"PASSWORD","name":"hot","fields":{"password":"v1"}}'
S=$SECRET_ID
mksecret "$O_JWT" "$V" '{"type":"PASSWORD","name":"hot-nocas","fields":{"password":"v1"}}'
S_NOCAS=$SECRET_ID
TOKENS=() TOKEN_IDS=()
for i in $(seq 1 $CLIENTS); do
	mktoken "$O_JWT" "writer-$i" '["vault:write"]'
	TOKENS+=("$TOK")
	TOKEN_IDS+=("$TOK_ID")
done

# http METHOD PATH BODY TOKEN OUT: prints the status (its own output file: clients run in parallel).
http() {
	local args=(-s -o "$5" -w '%{http_code}' -X "$1" --max-time 60 -H "Authorization: Bearer $4")
	[ -n "$3" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "$VT_ADDR$2" || echo 000
}

# client I SECRET MODE COUNT: waits at the barrier, then lands COUNT updates. MODE cas: read the
# version, PUT with it, retry on 409; MODE nocas: plain PUTs; MODE reveal / denied: reveals that
# must answer 200 / 403 (an inject-only secret). Each landed update appends
# "version value" to $VT_TMP/landed.I; each 409 a line to $VT_TMP/conflicts.I; anything else
# goes to $VT_TMP/errors.
client() {
	local i=$1 s=$2 mode=$3 count=$4 tok=${TOKENS[$(($1 - 1))]} k=0 tries=0 v st value body
	local out="$VT_TMP/out.$i"
	: >"$VT_TMP/landed.$i"
	: >"$VT_TMP/conflicts.$i"
	touch "$VT_TMP/ready.$i"
	read -r _ <&3 # the barrier: one line per client, all written at once
	while [ $k -lt "$count" ]; do
		tries=$((tries + 1))
		if [ $tries -gt $MAX_TRIES ]; then
			echo "client $i: gave up after $MAX_TRIES tries" >>"$VT_TMP/errors"
			return
		fi
		value="client$i-update$k-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		if [ "$mode" = reveal ] || [ "$mode" = denied ]; then
			st=$(http POST "/api/vault/secrets/$s/reveal" '{"reason":"race"}' "$tok" "$out")
			if { [ "$mode" = reveal ] && [ "$st" = 200 ]; } ||
				{ [ "$mode" = denied ] && [ "$st" = 403 ] &&
					[ "$(jq -r .error.code "$out")" = forbidden ]; }; then
				echo "$(jq -r '.version // "-"' "$out") $(jq -r '.fields.password // "-"' "$out")" \
					>>"$VT_TMP/landed.$i"
				k=$((k + 1))
			else
				echo "client $i: $mode $st $(cat "$out")" >>"$VT_TMP/errors"
				return
			fi
			continue
		fi
		if [ "$mode" = cas ]; then
			st=$(http GET "/api/vault/secrets/$s" "" "$tok" "$out")
			if [ "$st" != 200 ]; then
				echo "client $i: GET $st $(cat "$out")" >>"$VT_TMP/errors"
				return
			fi
			v=$(jq -r .version "$out")
			body=$(jq -nc --arg p "$value" --argjson c "$v" '{fields:{password:$p},cas:$c}')
		else
			body=$(jq -nc --arg p "$value" '{fields:{password:$p}}')
		fi
		st=$(http PUT "/api/vault/secrets/$s" "$body" "$tok" "$out")
		case $st in
		200)
			echo "$(jq -r .version "$out") $value" >>"$VT_TMP/landed.$i"
			k=$((k + 1))
			;;
		409)
			if [ "$mode" = cas ] && [ "$(jq -r .error.code "$out")" = version_mismatch ]; then
				echo "$v" >>"$VT_TMP/conflicts.$i"
			else
				echo "client $i: 409 $(cat "$out")" >>"$VT_TMP/errors"
				return
			fi
			;;
		*)
			echo "client $i: PUT $st $(cat "$out")" >>"$VT_TMP/errors"
			return
			;;
		esac
	done
}

# run_clients SECRET MODE COUNT: starts every client, releases them together, waits for all.
run_clients() {
	local fifo="$VT_TMP/barrier" pids=() i t0
	rm -f "$fifo" "$VT_TMP"/ready.* "$VT_TMP/errors"
	: >"$VT_TMP/errors"
	mkfifo "$fifo"
	exec 3<>"$fifo" # read-write: never blocks, and keeps the FIFO alive for every client
	for i in $(seq 1 $CLIENTS); do
		client "$i" "$1" "$2" "$3" &
		pids+=($!)
	done
	for _ in $(seq 1 300); do
		[ "$(find "$VT_TMP" -maxdepth 1 -name 'ready.*' | wc -l)" -eq $CLIENTS ] && break
		sleep 0.1
	done
	t0=$(date +%s.%N)
	printf 'go\n%.0s' $(seq 1 $CLIENTS) >&3
	for i in "${pids[@]}"; do wait "$i" || echo "client pid $i exited $?" >>"$VT_TMP/errors"; done
	exec 3>&-
	echo "$2: $CLIENTS clients done in $(echo "$(date +%s.%N) - $t0" | awk '{print $1 - $3}') s" >&2
}

# contiguous FROM TO: the numbers FROM..TO, one per line.
contiguous() { seq "$1" "$2"; }

# ---- with cas ----------------------------------------------------------------------------------------
run_clients "$S" cas $N
TOTAL=$((CLIENTS * N))
LAST=$((1 + TOTAL))
expect_eq "" "$(cat "$VT_TMP/errors")" "no client saw anything but 200 or 409 version_mismatch"
for i in $(seq 1 $CLIENTS); do
	expect_eq $N "$(wc -l <"$VT_TMP/landed.$i")" "client $i landed $N updates"
done
cat "$VT_TMP"/landed.* >"$VT_TMP/landed"
CONFLICTS=$(cat "$VT_TMP"/conflicts.* | wc -l)
echo "cas: $TOTAL updates landed, $CONFLICTS version_mismatch retries" >&2
[ "$CONFLICTS" -gt 0 ] && pass || fail "no 409 at all: the clients did not actually race"
expect_eq "$(contiguous 2 $LAST)" "$(cut -d' ' -f1 "$VT_TMP/landed" | sort -n)" \
	"answered versions are 2..$LAST, each once"
expect_eq "$TOTAL" "$(cut -d' ' -f2 "$VT_TMP/landed" | sort -u | wc -l)" "every value is unique"

api GET "/api/vault/secrets/$S" "" "$O_JWT"
expect_jq ".version == $LAST" "final version is 1 + $CLIENTS*$N"
expect_eq "$(contiguous 1 $LAST)" \
	"$(psql_super "SELECT version FROM secret_versions WHERE secret_id = '$S' ORDER BY version")" \
	"secret_versions: 1..$LAST, no gap or duplicate"
expect_eq "$LAST $LAST" "$(psql_super "SELECT version || ' ' || (SELECT count(*) FROM secret_versions
	WHERE secret_id = '$S') FROM secrets WHERE id = '$S'")" "secrets.version matches the versions"

audit_all "$O_JWT" "action=SECRET_UPDATED&resource=$S"
ROWS=$AUDIT
expect_eq "$TOTAL" "$(jq length <<<"$ROWS")" "$TOTAL SECRET_UPDATED rows"
expect_eq "$(contiguous 2 $LAST)" "$(jq -r '.[].detail.version' <<<"$ROWS" | sort -n)" \
	"audited versions are 2..$LAST, each once"
BODY=$ROWS
expect_jq 'all(.[]; .outcome == "success" and .actor.type == "api_token" and .source_ip == "127.0.0.1")' \
	"SECRET_UPDATED rows: outcome, actor, source"
for i in $(seq 1 $CLIENTS); do
	expect_eq "$(cut -d' ' -f1 "$VT_TMP/landed.$i" | sort -n)" \
		"$(jq -r --arg t "${TOKEN_IDS[$((i - 1))]}" '.[] | select(.actor.id == $t) | .detail.version' <<<"$ROWS" | sort -n)" \
		"client $i: its audit rows carry exactly the versions it was answered"
done
BODY=$ROWS
mapfile -t VALUES < <(cut -d' ' -f2 "$VT_TMP/landed")
absent "SECRET_UPDATED rows" "${VALUES[@]}"

api POST "/api/vault/secrets/$S/reveal" "" "$O_JWT"
expect_status 200 "reveal after the race"
expect_jq ".version == $LAST" "reveal: the last version"
expect_eq "$(awk -v l=$LAST '$1 == l {print $2}' "$VT_TMP/landed")" "$(jq -r .fields.password <<<"$BODY")" \
	"reveal: the value written as version $LAST"

# A stale cas after the race: refused, nothing written.
api PUT "/api/vault/secrets/$S" '{"fields":{"password":"stale"},"cas":1}' "$O_JWT"
expect_status 409 "stale cas"
expect_code version_mismatch "stale cas"
api PUT "/api/vault/secrets/$S" "{\"fields\":{\"password\":\"ahead\"},\"cas\":$((LAST + 1))}" "$O_JWT"
expect_status 409 "cas ahead of the current version"
expect_eq "$LAST" "$(psql_super "SELECT max(version) FROM secret_versions WHERE secret_id = '$S'")" \
	"refused writes added no version"

# ---- without cas: every writer lands, versions stay contiguous ---------------------------------------
run_clients "$S_NOCAS" nocas $M
TOTAL=$((CLIENTS * M))
LAST=$((1 + TOTAL))
expect_eq "" "$(cat "$VT_TMP/errors")" "no cas: every PUT answered 200"
cat "$VT_TMP"/landed.* >"$VT_TMP/landed"
expect_eq 0 "$(cat "$VT_TMP"/conflicts.* | wc -l)" "no cas: no 409"
expect_eq "$(contiguous 2 $LAST)" "$(cut -d' ' -f1 "$VT_TMP/landed" | sort -n)" \
	"no cas: answered versions are 2..$LAST, each once"
expect_eq "$(contiguous 1 $LAST)" \
	"$(psql_super "SELECT version FROM secret_versions WHERE secret_id = '$S_NOCAS' ORDER BY version")" \
	"no cas: secret_versions 1..$LAST"
audit_all "$O_JWT" "action=SECRET_UPDATED&resource=$S_NOCAS"
expect_eq "$(contiguous 2 $LAST)" "$(jq -r '.[].detail.version' <<<"$AUDIT" | sort -n)" \
	"no cas: audited versions 2..$LAST, each once"
api POST "/api/vault/secrets/$S_NOCAS/reveal" "" "$O_JWT"
expect_jq ".version == $LAST" "no cas: reveal shows the last version"
expect_eq "$(awk -v l=$LAST '$1 == l {print $2}' "$VT_TMP/landed")" "$(jq -r .fields.password <<<"$BODY")" \
	"no cas: reveal shows the value written last"

# ---- concurrent reveals and refused reveals: each one audited exactly once --------------------------
mksecret "$O_JWT" "$V" '{"type":"PASSWORD","name":"hot-io","inject_only":true,"fields":{"password":"io"}}'
S_IO=$SECRET_ID
# vault:write tokens are EDITORs: readers of both secrets.
run_clients "$S_NOCAS" reveal $M
expect_eq "" "$(cat "$VT_TMP/errors")" "concurrent reveals: all 200"
expect_eq "$((CLIENTS * M))" "$(cat "$VT_TMP"/landed.* | grep -cx "$LAST [^ ]*")" \
	"concurrent reveals: every one shows version $LAST"
audit_all "$O_JWT" "action=SECRET_REVEALED&resource=$S_NOCAS"
BODY=$AUDIT
# one reveal by the owner above, plus the clients'
expect_jq "length == $((CLIENTS * M + 1))" "concurrent reveals: one SECRET_REVEALED row each"
expect_jq "[.[] | select(.actor.type == \"api_token\") | .actor.id] | group_by(.) | map(length) | unique == [$M]" \
	"concurrent reveals: $M rows per client"
run_clients "$S_IO" denied $M
expect_eq "" "$(cat "$VT_TMP/errors")" "concurrent refused reveals: all 403"
audit_all "$O_JWT" "action=SECRET_REVEAL_DENIED&resource=$S_IO"
BODY=$AUDIT
expect_jq "length == $((CLIENTS * M)) and all(.[]; .outcome == \"denied\")" \
	"concurrent refused reveals: one SECRET_REVEAL_DENIED row each"
expect_jq "[.[].actor.id] | group_by(.) | map(length) | unique == [$M]" \
	"concurrent refused reveals: $M rows per client"

# The server logged no failure through all of it (no failed statement, commit or lock wait).
expect_eq "" "$(grep -E ' (ERROR|WARN|FATAL) ' "$VT_LOG" | head -n 5)" "no error or warning in the server log"

finish
