#!/usr/bin/env bash
# Measures what the gatehouse handler costs per request, as a ratio against
# plain reverse_proxy measured in the same run on the same machine (absolute
# figures on a shared 2-core machine are noise; ratios are not).
#
#   test/load/ratio.sh [duration] [connections] [rounds]
#
# Defaults: 10s per measurement, 32 connections, 2 rounds. Each round
# measures baseline, API key and bearer in turn with wrk -t2; every load is
# bounded by its duration. Needs wrk and jq; uses $GATEHOUSE_CADDY_BIN or
# ./caddy (./xcaddy.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${1:-10s}
connections=${2:-32}
rounds=${3:-2}
caddy=${GATEHOUSE_CADDY_BIN:-./caddy}
[ -x "$caddy" ] || ./xcaddy.sh
command -v wrk >/dev/null || { echo "ratio.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }

export LOAD_DIR
LOAD_DIR=$(mktemp -d)
log="$LOAD_DIR/caddy.log"
"$caddy" run --config test/load/load.Caddyfile --adapter caddyfile >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$LOAD_DIR"' EXIT

# Wait for the issuer, its demo client and the bearer track's keys.
for _ in $(seq 100); do
	[ -s "$LOAD_DIR/demo-credentials.json" ] && break
	sleep 0.1
done
creds="$LOAD_DIR/demo-credentials.json"
[ -s "$creds" ] || { echo "ratio.sh: the gateway did not start:" >&2; cat "$log" >&2; exit 1; }
key=$(jq -r .pos_key.api_key "$creds")
token=$(curl -fsS http://localhost:9205/connect/token \
	-d grant_type=client_credentials -d scope=admin.read \
	-d client_id="$(jq -r .admin_client.client_id "$creds")" \
	-d client_secret="$(jq -r .admin_client.client_secret "$creds")" | jq -r .access_token)
for _ in $(seq 50); do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" http://localhost:9204/)
	[ "$code" = 200 ] && break
	sleep 0.2
done
[ "$code" = 200 ] || { echo "ratio.sh: the bearer route answers $code" >&2; exit 1; }

measure() { # name port [header]
	local out rps
	if [ -n "${3:-}" ]; then
		out=$(wrk -t2 -c"$connections" -d"$duration" -H "$3" "http://127.0.0.1:$2/")
	else
		out=$(wrk -t2 -c"$connections" -d"$duration" "http://127.0.0.1:$2/")
	fi
	if grep -q "Non-2xx" <<<"$out"; then
		echo "ratio.sh: $1 answered non-2xx responses:" >&2
		echo "$out" >&2
		exit 1
	fi
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	echo "$rps"
}

echo "machine: $(nproc) cores, $(uname -m), $(go version 2>/dev/null | awk '{print $3}'), wrk -t2 -c$connections -d$duration, $rounds rounds"
printf '%-8s %12s %12s %12s %10s %10s\n' round baseline api_key bearer key/base bearer/base
for round in $(seq "$rounds"); do
	base=$(measure baseline 9202)
	apikey=$(measure api_key 9203 "X-Api-Key: $key")
	bearer=$(measure bearer 9204 "Authorization: Bearer $token")
	awk -v r="$round" -v b="$base" -v k="$apikey" -v t="$bearer" \
		'BEGIN { printf "%-8s %12.0f %12.0f %12.0f %10.3f %10.3f\n", r, b, k, t, k / b, t / b }'
done
