#!/usr/bin/env bash
# Hostile input at the HTTP boundary. Malformed and non-object JSON, wrong types, unknown and
# missing fields → 400 invalid_request / validation_failed naming the field and never echoing a
# value (a canary password is sent inside malformed JSON and inside wrong-typed fields and must
# appear in no response, nowhere in the server log and nowhere on disk). Body limits (16 KiB
# unauthenticated, 1 MiB authenticated, both boundaries; a bad bearer does not unlock the large
# limit; chunked uploads; lying Content-Length), path ids (not a UUID, "..", over-long), oversized
# headers, wrong Content-Type, unknown paths and methods, every kind of bad bearer, NUL bytes and
# deep nesting. Afterwards the server still serves, and the access log has exactly one line per
# answered request (by X-Request-Id), with fields a client cannot forge, and no credentials.
. "$(dirname "$0")/lib.sh"

vt_start

PW='correct horse battery staple'
CANARY='hunter2-SECRET-canary'
PORT=${VT_ADDR##*:}
CLIENT=$VT_TMP/client # request files (they contain the canary); not part of the disk check
mkdir -p "$CLIENT"
: >"$CLIENT/rids"
SECRETS=() # credentials that must never reach the log

# hreq [CURL_ARGS...] PATH: one request; sets STATUS, BODY, HDRS and records its X-Request-Id.
hreq() {
	local path=${*: -1}
	local args=("${@:1:$#-1}")
	STATUS=$(curl -g -s -o "$CLIENT/body" -D "$CLIENT/hdrs" -w '%{http_code}' --max-time 30 \
		"${args[@]}" "$VT_ADDR$path" 2>/dev/null) || true
	[ -n "$STATUS" ] || STATUS=000
	BODY=$(cat "$CLIENT/body" 2>/dev/null || true)
	HDRS=$(tr -d '\r' <"$CLIENT/hdrs" 2>/dev/null || true)
	rm -f "$CLIENT/body" "$CLIENT/hdrs"
	grep -i '^x-request-id:' <<<"$HDRS" | sed 's/^[^:]*: *//' >>"$CLIENT/rids" || true
}
# jpost PATH BODY [BEARER]: POST with Content-Type: application/json.
jpost() {
	local auth=()
	[ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
	hreq -X POST -H 'Content-Type: application/json' "${auth[@]}" --data-binary "$2" "$1"
}
# raw FILE [WAIT_S]: sends FILE's bytes on a fresh connection, reads until the server closes (or
# WAIT_S seconds); sets RAW and records the request ids it contains.
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$1" >&3
	RAW=$(timeout "${2:-10}" cat <&3 | tr -d '\r' || true)
	exec 3<&- 3>&-
	grep -i '^x-request-id:' <<<"$RAW" | sed 's/^[^:]*: *//' >>"$CLIENT/rids" || true
}
no_canary() {
	if grep -qF "$CANARY" <<<"$BODY"; then fail "$1: response echoes the canary: $BODY"; else pass; fi
}
# expect_400 CODE FIELD WHAT: 400 with CODE; the message names FIELD (if given); no canary.
expect_400() {
	expect_status 400 "$3"
	expect_code "$1" "$3"
	if [ -n "$2" ]; then expect_jq ".error.message | contains(\"'$2'\")" "$3: names '$2'"; fi
	no_canary "$3"
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
jwt_raw() { # HEADER_JSON PAYLOAD_JSON KEY
	local h p
	h=$(printf '%s' "$1" | b64url)
	p=$(printf '%s' "$2" | b64url)
	printf '%s.%s.%s' "$h" "$p" "$(printf '%s' "$h.$p" | openssl dgst -sha256 -hmac "$3" -binary |
		b64url)"
}

# ---- setup --------------------------------------------------------------------------------------
jpost /api/auth/register "$(jq -nc --arg p "$PW" '{email:"alice@bad.example",password:$p}')"
expect_status 201 "register"
JWT=$(jq -r .token <<<"$BODY")
A_USER=$(jq -r .user.id <<<"$BODY")
A_ORG=$(jq -r .org.id <<<"$BODY")
jpost /api/tokens '{"name":"ci","scopes":["audit:read"]}' "$JWT"
expect_status 201 "token"
TOKEN=$(jq -r .token <<<"$BODY")
SECRETS+=("$JWT" "$TOKEN")

# ---- malformed JSON and non-object bodies -------------------------------------------------------
for b in "{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\"" \
	"{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\",}" \
	"{'email':'alice@bad.example','password':'$CANARY'}" \
	"{\"email\":\"alice@bad.example\" \"password\":\"$CANARY\"}" \
	"{\"email\":\"alice@bad.example\",\"password\":$CANARY}" \
	"{\"password\":\"$CANARY\",\"password\":\"x\",\"email\":\"alice@bad.example\"}" \
	"{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\\u0000\"}" \
	"{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\"}}" \
	'' ' '; do
	jpost /api/auth/login "$b"
	expect_400 invalid_request "" "login with malformed JSON [$b]"
done
for b in '[]' "[\"$CANARY\"]" "\"$CANARY\"" 42 null true "[{\"password\":\"$CANARY\"}]"; do
	jpost /api/auth/login "$b"
	expect_400 invalid_request "" "login with a top-level $b"
	expect_jq '.error.message | test("JSON object|malformed JSON at line")' \
		"top-level $b: the message explains the refusal"
done

# ---- wrong types, unknown and missing fields ----------------------------------------------------
EMAIL='"email":"alice@bad.example"'
PASS="\"password\":\"$PW\""
bad_field() { # PATH FIELD BODY [BEARER]
	jpost "$1" "$3" "${4:-}"
	expect_400 validation_failed "$2" "$1 with $3"
}
for v in 123 '[]' '{}' true "[\"$CANARY\"]" "{\"v\":\"$CANARY\"}"; do
	bad_field /api/auth/register email "{\"email\":$v,\"password\":\"$CANARY\"}"
	bad_field /api/auth/register password "{$EMAIL,\"password\":$v}"
	bad_field /api/auth/register name "{$EMAIL,$PASS,\"name\":$v}"
	bad_field /api/auth/login email "{\"email\":$v,\"password\":\"$CANARY\"}"
	bad_field /api/auth/login password "{$EMAIL,\"password\":$v}"
	bad_field /api/auth/login totp_code "{$EMAIL,\"password\":\"$CANARY\",\"totp_code\":$v}"
	bad_field /api/tokens name "{\"name\":$v,\"scopes\":[\"admin\"]}" "$JWT"
done
for v in 1 '"admin"' '{}' '[1]' '["admin",null]' "[[\"$CANARY\"]]" "{\"a\":\"$CANARY\"}"; do
	bad_field /api/tokens scopes "{\"name\":\"x\",\"scopes\":$v}" "$JWT"
done
for v in '"3600"' 1.5 59 315360001 -1 '[]' '{}' true "[\"$CANARY\"]" "\"$CANARY\""; do
	bad_field /api/tokens expires_in_seconds \
		"{\"name\":\"x\",\"scopes\":[\"admin\"],\"expires_in_seconds\":$v}" "$JWT"
done
bad_field /api/tokens scopes '{"name":"x","scopes":["root"]}' "$JWT"
bad_field /api/tokens scopes '{"name":"x","scopes":[]}' "$JWT"
# The canary as a value that fails a content check (not an e-mail address) is not echoed either.
bad_field /api/auth/login email "{\"email\":\"$CANARY\",$PASS}"
bad_field /api/auth/register password "{\"email\":\"new@bad.example\",\"password\":\"short\"}"
# Unknown fields are refused, not ignored.
bad_field /api/auth/register is_admin "{$EMAIL,$PASS,\"is_admin\":true}"
bad_field /api/auth/login org_id "{$EMAIL,$PASS,\"org_id\":\"$A_ORG\"}"
bad_field /api/tokens org_id "{\"name\":\"x\",\"scopes\":[\"admin\"],\"org_id\":\"$A_ORG\"}" "$JWT"
# Missing (or null) required fields.
bad_field /api/auth/register email '{}'
bad_field /api/auth/register password "{$EMAIL}"
bad_field /api/auth/register password "{$EMAIL,\"password\":null}"
bad_field /api/auth/login email "{$PASS}"
bad_field /api/auth/login password "{$EMAIL}"
bad_field /api/tokens scopes '{"name":"x"}' "$JWT"
bad_field /api/tokens name '{"scopes":["admin"]}' "$JWT"
jpost /api/auth/switch-org '{"org_id":"not-a-uuid"}' "$JWT"
expect_400 validation_failed org_id "switch-org with a malformed org_id"
api_tokens_before=$(psql_super "SELECT count(*) FROM api_tokens")

# ---- NUL bytes and nesting ------------------------------------------------------------------------
printf '{"email":"alice@bad.example","password":"%s\0"}' "$CANARY" >"$CLIENT/nul.json"
hreq -X POST -H 'Content-Type: application/json' --data-binary "@$CLIENT/nul.json" /api/auth/login
expect_400 invalid_request "" "login with a NUL byte in the body"
deep() { # DEPTH → {"name":[[...]]}
	printf '{"name":'
	head -c "$1" /dev/zero | tr '\0' '['
	head -c "$1" /dev/zero | tr '\0' ']'
	printf ',"scopes":["admin"]}'
}
deep 10000 >"$CLIENT/deep.json"
hreq -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $JWT" \
	--data-binary "@$CLIENT/deep.json" /api/tokens
expect_400 invalid_request "" "depth 10000"
deep 100000 >"$CLIENT/deep.json"
hreq -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $JWT" \
	--data-binary "@$CLIENT/deep.json" /api/tokens
expect_400 invalid_request "" "depth 100000"
# JSON_MAX_DEPTH is 32 levels, the top-level object included: 31 arrays inside it pass the parser
# (and are then refused by the schema), 32 are refused as too deep.
deep 31 >"$CLIENT/deep.json"
hreq -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $JWT" \
	--data-binary "@$CLIENT/deep.json" /api/tokens
expect_400 validation_failed name "depth 32 reaches the schema check"
deep 32 >"$CLIENT/deep.json"
hreq -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $JWT" \
	--data-binary "@$CLIENT/deep.json" /api/tokens
expect_400 invalid_request "" "depth 33"
expect_jq '.error.message | test("nested too deeply")' "depth 33: says why"
{ printf '{"email":'; head -c 8000 /dev/zero | tr '\0' '['; } >"$CLIENT/deep.json"
hreq -X POST -H 'Content-Type: application/json' --data-binary "@$CLIENT/deep.json" /api/auth/login
expect_400 invalid_request "" "unauthenticated, unterminated depth 8000"

# ---- body sizes ------------------------------------------------------------------------------------
# pad FILE SIZE JSON: JSON followed by spaces up to exactly SIZE bytes.
pad() {
	{ printf '%s' "$3"; head -c $(($2 - ${#3})) /dev/zero | tr '\0' ' '; } >"$1"
	[ "$(stat -c %s "$1")" = "$2" ] || fail "pad $1 to $2"
}
LOGIN="{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\"}"
pad "$CLIENT/anon16k" 16384 "$LOGIN"
pad "$CLIENT/anon16k1" 16385 "$LOGIN"
pad "$CLIENT/auth100k" 102400 '{"name":"pad100k","scopes":["audit:read"]}'
pad "$CLIENT/auth1m" 1048576 '{"name":"pad1m","scopes":["audit:read"]}'
pad "$CLIENT/auth1m1" 1048577 '{"name":"pad1m1","scopes":["audit:read"]}'
J=(-X POST -H 'Content-Type: application/json')
AUTH=(-H "Authorization: Bearer $JWT")
hreq "${J[@]}" --data-binary "@$CLIENT/anon16k" /api/auth/login
expect_status 401 "unauthenticated body of exactly 16 KiB is read (wrong password)"
hreq "${J[@]}" --data-binary "@$CLIENT/anon16k1" /api/auth/login
expect_status 413 "unauthenticated body of 16 KiB + 1"
expect_code too_large "unauthenticated 16 KiB + 1"
no_canary "unauthenticated 16 KiB + 1"
hreq "${J[@]}" "${AUTH[@]}" --data-binary "@$CLIENT/auth100k" /api/tokens
expect_status 201 "authenticated 100 KiB body"
hreq "${J[@]}" "${AUTH[@]}" --data-binary "@$CLIENT/auth1m" /api/tokens
expect_status 201 "authenticated body of exactly 1 MiB"
hreq "${J[@]}" "${AUTH[@]}" --data-binary "@$CLIENT/auth1m1" /api/tokens
expect_status 413 "authenticated body of 1 MiB + 1"
expect_code too_large "authenticated 1 MiB + 1"
# Only a valid bearer unlocks the large limit.
hreq "${J[@]}" -H 'Authorization: Bearer not-a-token' --data-binary "@$CLIENT/auth100k" /api/tokens
expect_status 413 "100 KiB with a garbage bearer gets the unauthenticated limit"
# Chunked uploads (no Content-Length to refuse up front).
CH=(-H 'Transfer-Encoding: chunked')
hreq "${J[@]}" "${CH[@]}" --data-binary "@$CLIENT/anon16k" /api/auth/login
expect_status 401 "chunked 16 KiB unauthenticated is read"
hreq "${J[@]}" "${CH[@]}" --data-binary "@$CLIENT/anon16k1" /api/auth/login
expect_status 413 "chunked 16 KiB + 1 unauthenticated"
expect_code too_large "chunked 16 KiB + 1"
hreq "${J[@]}" "${CH[@]}" "${AUTH[@]}" --data-binary "@$CLIENT/auth1m1" /api/tokens
expect_status 413 "chunked 1 MiB + 1 authenticated"
expect_code too_large "chunked 1 MiB + 1"
hreq "${J[@]}" "${CH[@]}" "${AUTH[@]}" --data-binary "@$CLIENT/auth100k" /api/tokens
expect_status 201 "chunked 100 KiB authenticated"
# A sender that never stops is cut off: a 413 or a closed connection (curl then reports 000, or
# the interim 100 Continue), never a final 2xx/4xx from the handler.
head -c 8000000 /dev/zero | tr '\0' ' ' >"$CLIENT/huge"
hreq "${J[@]}" "${CH[@]}" --data-binary "@$CLIENT/huge" /api/auth/login
case $STATUS in 413 | 000 | 100) pass ;; *) fail "8 MB chunked upload: got $STATUS" ;; esac
expect_eq "$((api_tokens_before + 3))" "$(psql_super "SELECT count(*) FROM api_tokens")" \
	"only the three in-limit token requests created tokens"
expect_eq 0 "$(psql_super "SELECT count(*) FROM api_tokens WHERE name = 'pad1m1'")" \
	"the over-limit token request created nothing"
# Lying Content-Length. Declared too large: refused before the body is read.
hreq "${J[@]}" -H 'Content-Length: 1048577' -H "Authorization: Bearer $JWT" --data-binary '{}' \
	/api/tokens
expect_status 413 "declared 1 MiB + 1, sent 2 bytes"
# Declared shorter than the body: only the declared bytes are the body (→ malformed JSON); the
# canary after the cut is neither parsed, echoed nor logged.
body="{\"email\":\"alice@bad.example\",\"password\":\"$CANARY\"}"
printf 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n%s' \
	"$body" >"$CLIENT/short.http"
raw "$CLIENT/short.http"
expect_eq "HTTP/1.1 400 Bad Request" "$(head -n1 <<<"$RAW")" "Content-Length shorter than the body"
grep -q '"code":"invalid_request"' <<<"$RAW" && pass || fail "short Content-Length: $RAW"
grep -qF "$CANARY" <<<"$RAW" && fail "short Content-Length echoes the canary" || pass
# Declared longer than what is sent: no answer while the body is incomplete; the connection is
# given up by the client.
printf 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"email":"alice@bad.example"' \
	>"$CLIENT/long.http"
raw "$CLIENT/long.http" 2
expect_eq "" "$RAW" "Content-Length longer than the body: no premature answer"
for cl in abc -1 99999999999999999999999 '1, 2'; do
	printf 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n{}' \
		"$cl" >"$CLIENT/cl.http"
	raw "$CLIENT/cl.http"
	grep -Eq '^HTTP/1.1 (400|413) ' <<<"$RAW" && pass || fail "Content-Length '$cl': $(head -n1 <<<"$RAW")"
done

# ---- ids in paths ---------------------------------------------------------------------------------
long=$(head -c 1000 /dev/zero | tr '\0' a)
longer=$(head -c 2000 /dev/zero | tr '\0' a)
for p in /api/tokens/not-a-uuid "/api/tokens/$long" "/api/tokens/${A_ORG//-/}" \
	"/api/tokens/{$A_ORG}" "/api/tokens/%20$A_ORG" "/api/tokens/$A_ORG%20" \
	/api/orgs/current/members/not-a-uuid /api/orgs/current/invites/1; do
	hreq -X DELETE "${AUTH[@]}" "$p"
	expect_400 invalid_request "" "DELETE ${p:0:60}"
done
hreq -X PATCH "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary '{"org_role":"owner"}' \
	/api/orgs/current/members/not-a-uuid
expect_400 invalid_request "" "PATCH member not-a-uuid"
hreq -X DELETE "${AUTH[@]}" "/api/tokens/$longer"
expect_400 invalid_request "" "DELETE with a 2000-byte id (path too long)"
for p in /api/tokens/../x /api/tokens/%2e%2e%2fx "/api/tokens/$A_ORG/x" /api/tokens/ \
	"/api/tokens/..%2F..%2Forgs%2Fcurrent"; do
	hreq -X DELETE --path-as-is "${AUTH[@]}" "$p"
	expect_status 404 "DELETE $p"
	expect_code not_found "DELETE $p"
done
hreq -X DELETE "${AUTH[@]}" "/api/tokens/00000000-0000-4000-8000-000000000000"
expect_status 404 "DELETE a well-formed id that does not exist"
# XXX: libmicrohttpd decodes %00 and the path ends there, so "<id>%00<junk>" is routed as "<id>".
# Harmless here (routing is exact and the id is checked), but it must not revoke anything.
T_ID=$(psql_super "SELECT id FROM api_tokens WHERE name = 'ci'")
for p in "/api/tokens/$A_ORG%00" "/api/tokens/$A_ORG%00/../../orgs/current"; do
	hreq -X DELETE --path-as-is "${AUTH[@]}" "$p"
	case $STATUS in 400 | 404) pass ;; *) fail "DELETE $p: got $STATUS" ;; esac
done
expect_eq "" "$(psql_super "SELECT revoked_at FROM api_tokens WHERE id = '$T_ID'")" \
	"no token revoked by the path attacks"

# A path that decodes to what looks like the access log's own fields (and a newline).
FAKE_RID=0123456789abcdef0123456789abcdef
hreq "/x%20200%2043%201ms%20ip=10.9.9.9%20req=$FAKE_RID%20actor=user:$A_USER%0aINFO%20forged"
expect_status 404 "a path forging access-log fields"

# ---- headers ----------------------------------------------------------------------------------------
big=$(head -c 65536 /dev/zero | tr '\0' a)
hreq -H "X-Big: $big" /health
expect_status 431 "a 64 KiB header"
hreq -H "Authorization: Bearer $big" /api/auth/me
expect_status 431 "a 64 KiB Authorization header"
many=()
v=$(head -c 200 /dev/zero | tr '\0' b)
for i in $(seq 1 200); do many+=(-H "X-H$i: $v"); done
hreq "${many[@]}" /health
expect_status 431 "200 headers of 200 bytes"
# The limit is on the total size (HTTP_HEADERS_MAX, 32 KiB), not on the count: 200 small
# headers fit and are served.
many=()
for i in $(seq 1 200); do many+=(-H "X-H$i: v"); done
hreq "${many[@]}" /health
expect_status 200 "200 small headers (4 KiB in all)"

# ---- content type, paths, methods --------------------------------------------------------------------
for ct in text/plain application/x-www-form-urlencoded application/jsonx 'application/json-seq' ''; do
	hreq -X POST -H "Content-Type: $ct" --data-binary "{$EMAIL,$PASS}" /api/auth/login
	expect_status 415 "login with Content-Type '$ct'"
	expect_code unsupported_media_type "Content-Type '$ct'"
done
hreq -X POST -H 'Content-Type: application/json; charset=utf-8' --data-binary "{$EMAIL,$PASS}" \
	/api/auth/login
expect_status 200 "application/json; charset=utf-8 is accepted"
for p in /nope /api /api/ /api/auth /API/AUTH/LOGIN /api/auth/login/ /api/tokens/x/y /health/x; do
	hreq -X POST -H 'Content-Type: application/json' --data-binary '{}' "$p"
	expect_status 404 "POST $p"
	expect_code not_found "POST $p"
done
check_405() { # METHOD PATH ALLOW
	hreq -X "$1" "${AUTH[@]}" "$2"
	expect_status 405 "$1 $2"
	expect_code method_not_allowed "$1 $2"
	expect_eq "$3" "$(grep -i '^allow:' <<<"$HDRS" | sed 's/^[^:]*: *//')" "$1 $2: Allow"
}
check_405 POST /health "GET, HEAD"
check_405 GET /api/auth/login POST
check_405 DELETE /api/auth/register POST
check_405 PUT /api/tokens "GET, POST, HEAD"
# An unknown method on a known path is 405 with Allow (RFC 9110 requires the header).
check_405 FOO /health "GET, HEAD"
# HEAD is served wherever GET is.
hreq -I /health
expect_status 200 "HEAD /health"
check_405 GET "/api/tokens/$A_ORG" DELETE
check_405 POST /api/orgs/current/members/x "PATCH, DELETE"

# ---- bad bearers ------------------------------------------------------------------------------------
KEY=$(vt_secret JWT_SECRET)
now=$(date +%s)
claims() { # EXP [EXTRA_JQ]
	jq -nc --arg s "$A_USER" --arg o "$A_ORG" --argjson n "$now" --argjson e "$1" \
		"{iss:\"vaultterm\",sub:\$s,org:\$o,iat:(\$n - 10),exp:(\$n + \$e),jti:\"t\"} ${2:-}"
}
HS='{"alg":"HS256","typ":"JWT"}'
good=$(jwt_raw "$HS" "$(claims 600)" "$KEY")
expired=$(jwt_raw "$HS" "$(claims -5)" "$KEY")
wrongkey=$(jwt_raw "$HS" "$(claims 600)" "not-the-server-key-not-the-server-key")
wrongiss=$(jwt_raw "$HS" "$(claims 600 '| .iss = "someone-else"')" "$KEY")
future=$(jwt_raw "$HS" "$(claims 600 '| .iat = (.iat + 3600)')" "$KEY")
strexp=$(jwt_raw "$HS" "$(claims 600 '| .exp = (.exp | tostring)')" "$KEY")
kid=$(jwt_raw '{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}' "$(claims 600)" "$KEY")
hs512=$(jwt_raw '{"alg":"HS512","typ":"JWT"}' "$(claims 600)" "$KEY")
none="$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(claims 600 | b64url)."
none2="$(printf '%s' '{"alg":"none"}' | b64url).$(claims 600 | b64url).$(cut -d. -f3 <<<"$good")"
sig=${JWT##*.}
flipped="${JWT%.*}.${sig:0:5}$([ "${sig:5:1}" = A ] && echo B || echo A)${sig:6}"
SECRETS+=("$good" "$expired" "$wrongkey" "$none")
hreq -H "Authorization: Bearer $good" /api/auth/me
expect_status 200 "control: a well-formed JWT signed with the server key"
for b in "Basic YWxpY2U6cGFzc3dvcmQ=" "Bearer" "Bearer " "bearer garbage" "Bearer garbage" \
	"Bearer vt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "Bearer vti_x" "Token $JWT" \
	"Bearer $JWT x" "Bearer ${JWT}x" "Bearer $flipped" "Bearer $expired" "Bearer $wrongkey" \
	"Bearer $wrongiss" "Bearer $future" "Bearer $strexp" "Bearer $kid" "Bearer $hs512" \
	"Bearer $none" "Bearer $none2" "Bearer $(head -c 5000 /dev/zero | tr '\0' a)" \
	"Bearer $JWT.$JWT" "Bearer ${TOKEN}x" "Bearer ${TOKEN%?}"; do
	hreq -H "Authorization: $b" /api/auth/me
	expect_status 401 "Authorization: ${b:0:40}..."
	expect_code unauthorized "Authorization: ${b:0:40}..."
done
# A bad bearer is refused on public routes too (never silently treated as anonymous).
hreq -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $expired" \
	--data-binary "{$EMAIL,$PASS}" /api/auth/login
expect_status 401 "login with an expired bearer"

# ---- still serving ---------------------------------------------------------------------------------
hreq /health
expect_status 200 "health after the abuse"
expect_jq '.status == "ok" and .db == "ok"' "health body"
jpost /api/auth/login "{$EMAIL,$PASS}"
expect_status 200 "a normal login still works"
hreq -H "Authorization: Bearer $TOKEN" /api/auth/me
expect_status 200 "the API token still works"
kill -0 "$VT_PID" && pass || fail "the server died"

# ---- the log ------------------------------------------------------------------------------------------
vt_stop # flush everything; the cluster stops too, so its files can be searched
mapfile -t rids <"$CLIENT/rids"
[ "${#rids[@]}" -ge 150 ] && pass || fail "only ${#rids[@]} request ids collected"
dups=""
for id in "${rids[@]}"; do
	[[ $id =~ ^[0-9a-f]{32}$ ]] || { dups="$dups bad-id:$id"; continue; }
	n=$(grep -c "req=$id" "$VT_LOG" || true)
	[ "$n" = 1 ] || dups="$dups $id:$n"
done
expect_eq "" "$dups" "every X-Request-Id is on exactly one log line"
access=$(grep 'on_completed\] ' "$VT_LOG" || true)
answered=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^req=/) { print $(i - 4); break } }' \
	<<<"$access" | grep -vc '^0$' || true)
expect_eq "${#rids[@]}" "$answered" "access lines with a status = responses with a request id"
# Each access line has its fields exactly once: the client-controlled path cannot add any.
bad_lines=$(awk '{ r = 0; a = 0; p = 0; for (i = 1; i <= NF; i++) { if ($i ~ /^req=/) r++;
	if ($i ~ /^actor=/) a++; if ($i ~ /^ip=/) p++ } if (r != 1 || a != 1 || p != 1) print }' \
	<<<"$access")
expect_eq "" "$bad_lines" "access lines with forged or missing fields"
# XXX: requests libmicrohttpd rejects itself (431, malformed lines, a bad Content-Length) never
# reach the application, so they have no request id and no access line: only MHD's WARN line.
n431=$(grep -c 'libmicrohttpd: Error processing request (HTTP response code is 431' "$VT_LOG" || true)
expect_eq 3 "$n431" "each 431 left a WARN line"
# A path crafted to look like more fields is logged encoded, as one field.
expect_eq 0 "$(grep -c " req=$FAKE_RID" "$VT_LOG" || true)" "the forged request id is not a field"

grep -q 'on_completed\] DELETE /api/tokens/%20' "$VT_LOG" && pass ||
	fail "the %20 path was not logged encoded"
if grep -qF "$CANARY" "$VT_LOG"; then fail "the canary is in the server log"; else pass; fi
leaks=""
for s in "${SECRETS[@]}"; do
	if grep -qF -- "$s" "$VT_LOG"; then leaks="$leaks ${s:0:20}..."; fi
	sig=${s##*.}
	if [ ${#sig} -ge 20 ] && grep -qF -- "$sig" "$VT_LOG"; then leaks="$leaks sig:${sig:0:10}"; fi
done
expect_eq "" "$leaks" "bearer tokens in the server log"
# Nowhere on disk: not in PostgreSQL's files (tables, WAL, its log) either.
expect_eq "" "$(grep -rlaF "$CANARY" "$VT_DATA" || true)" "files containing the canary"

finish
