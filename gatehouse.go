// Package gatehouse is the root of the Gatehouse API gateway: Caddy modules
// that enforce bearer-JWT and API-key authentication at the edge, and the
// OAuth 2.0 / OpenID Connect server behind /connect/*.
//
// Importing this package registers every module of the build, so that
// `xcaddy build --with github.com/gatehouse-gw/gatehouse` compiles in the
// same set as the tests; the set itself is listed in package plugins.
package gatehouse

import _ "github.com/gatehouse-gw/gatehouse/plugins"
