// Command caddy is the Gatehouse build of Caddy for tests and `go run`:
// the standard modules plus everything in package plugins, the same set
// that ./xcaddy.sh compiles.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/gatehouse-gw/gatehouse/plugins"
)

func main() {
	caddycmd.Main()
}
