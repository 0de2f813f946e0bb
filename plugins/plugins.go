// Package plugins is the one list of what the Gatehouse build of Caddy
// compiles in: this project's modules and any optional extras. xcaddy.sh
// (through the root package), the tests and plugins/cmd/caddy import it,
// so all of them run the same set.
package plugins

import (
	// The bearer-JWT and API-key tracks, the policy handler and the admin API.
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/adminapi"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/apikey"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/bearer"
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/policy"
	// The OAuth 2.0 / OpenID Connect server (gatehouse_authserver) and
	// `caddy gatehouse authserver ...`.
	_ "github.com/gatehouse-gw/gatehouse/authserver/caddyhost"
	// `caddy gatehouse keys ...`: offline API-key management.
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/keystore/keyscmd"
	// Hot backups of the stores on Caddy's admin endpoint
	// (admin.api.gatehouse_backup), `caddy gatehouse backup` and `restore`.
	_ "github.com/gatehouse-gw/gatehouse/caddymodule/backup"
)
