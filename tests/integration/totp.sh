# RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) in bash with openssl and coreutils, for tests that
# enrol MFA; no python or oathtool needed. Sourced after lib.sh.
#
#   code=$(totp "$SECRET_BASE32" "$(totp_step)")   # the current code
#   totp_settle                                    # wait out the last seconds of a step

for _t in openssl base32 od; do
	command -v "$_t" >/dev/null || { echo "missing tool: $_t (run scripts/deps.sh)" >&2; exit 1; }
done
unset _t

# totp SECRET_BASE32 STEP: the code for time step STEP (unix time / 30).
totp() {
	local b32=$1 step=$2 keyhex msg hmac off bin
	while [ $((${#b32} % 8)) -ne 0 ]; do b32="$b32="; done
	keyhex=$(printf '%s' "$b32" | base32 -d | od -An -v -tx1 | tr -d ' \n')
	msg=$(printf '%016x' "$step" | sed 's/../\\x&/g')
	# shellcheck disable=SC2059 # msg is \xNN escapes made above
	hmac=$(printf "$msg" | openssl dgst -sha1 -mac HMAC -macopt "hexkey:$keyhex" | awk '{print $NF}')
	off=$((16#${hmac:39:1}))
	bin=$(((16#${hmac:$((off * 2)):8}) & 0x7fffffff))
	printf '%06d' $((bin % 1000000))
}

totp_step() { echo $(($(date +%s) / 30)); }

# Waits while fewer than 6 s of the current step remain, so a short sequence of codes computed
# now is checked by the server within the same (or the next, still in its ±1 window) step.
totp_settle() { while [ $((30 - $(date +%s) % 30)) -lt 6 ]; do sleep 1; done; }

# The helper itself against RFC 6238 Appendix B (SHA-1, secret "12345678901234567890"):
# T=59 → 94287082, T=1111111109 → 07081804 (last six digits).
if [ "$(totp GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 1)" != 287082 ] ||
	[ "$(totp GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ 37037036)" != 081804 ]; then
	echo "totp.sh: the TOTP helper fails the RFC 6238 test vectors" >&2
	exit 1
fi
