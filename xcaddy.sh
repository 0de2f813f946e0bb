#!/usr/bin/env bash
# Builds ./caddy: Caddy plus everything listed in plugins/, with xcaddy.
#
#   ./xcaddy.sh          build ./caddy
#   ./xcaddy.sh run      build, then run it with the root Caddyfile (like `xcaddy run`)
#
# xcaddy is installed into $(go env GOPATH)/bin when missing. The local
# module is passed as a versioned replace (MODULE@v0.0.0=.): a bare
# MODULE=. makes xcaddy `go get` an unversioned path that the module proxy
# refuses.
set -euo pipefail

CADDY_VERSION=v2.11.9
XCADDY_VERSION=v0.4.5
MODULE=github.com/gatehouse-gw/gatehouse

cd "$(dirname "$0")"
root=$(pwd)

xcaddy=$(command -v xcaddy || true)
if [ -z "$xcaddy" ] || ! "$xcaddy" version 2>/dev/null | grep -q "$XCADDY_VERSION"; then
	xcaddy="$(go env GOPATH)/bin/xcaddy"
	if ! [ -x "$xcaddy" ] || ! "$xcaddy" version 2>/dev/null | grep -q "$XCADDY_VERSION"; then
		echo "xcaddy.sh: installing xcaddy $XCADDY_VERSION" >&2
		GOFLAGS= go install "github.com/caddyserver/xcaddy/cmd/xcaddy@$XCADDY_VERSION"
	fi
fi

"$xcaddy" build "$CADDY_VERSION" --output "$root/caddy" --with "$MODULE@v0.0.0=$root"

case "${1:-}" in
run)
	shift
	exec "$root/caddy" run --config "$root/Caddyfile" --adapter caddyfile "$@"
	;;
"") ;;
*)
	echo "xcaddy.sh: unknown command '$1' (use: ./xcaddy.sh [run])" >&2
	exit 2
	;;
esac
