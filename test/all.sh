#!/usr/bin/env bash
# Runs every test of Gatehouse: formatting and vet, then all packages under
# the race detector. The end-to-end tests in test/ run ./caddy as built by
# ./xcaddy.sh, the same binary README's run command starts.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files -co --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...

./xcaddy.sh
GATEHOUSE_CADDY_BIN="$(pwd)/caddy" go test -race -count=1 -timeout 25m ./...
