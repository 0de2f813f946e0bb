// Package clientip tells the address of the client behind a request as
// Caddy determined it, for logs, audit entries and throttles.
package clientip

import (
	"net"
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// Of returns the client's address: with trusted_proxies configured, the
// address the trusted proxy forwarded; otherwise the connection's peer.
func Of(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
