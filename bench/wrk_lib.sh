# Helpers shared by the bench scripts that drive wrk (sourced, not run: not executable, so
# `make bench` skips it).

# to_ms VALUE: wrk's "850.00us" / "1.23ms" / "1.02s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
		else printf "?" }'
}

# wrk_parse OUTPUT: wrk --latency output into W_RPS W_P50 W_P99 (ms) and W_ERR (non-2xx replies
# plus socket errors: "connect 0, read 0, write 0, timeout 0").
wrk_parse() {
	W_RPS=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$1")
	W_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$1")")
	W_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$1")")
	W_ERR=$(awk '/Non-2xx/ {n += $NF}
		/Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10}
		END {print n + 0}' <<<"$1")
}
