package policy

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// DefaultIdentityHeaderPrefix starts the names of the identity headers.
const DefaultIdentityHeaderPrefix = "X-Auth-"

// identityHeaderNames returns the identity headers' names for prefix, in
// the order setIdentityHeaders fills them.
func identityHeaderNames(prefix string) [6]string {
	var names [6]string
	for i, suffix := range [6]string{"Client-Id", "Subject", "Scopes", "Track", "Key-Id", "Issuer"} {
		names[i] = http.CanonicalHeaderKey(prefix + suffix)
	}
	return names
}

// admit hands the verified identity on: to later handlers through the
// request's variables and placeholders, and to the upstream as headers.
func (h *Handler) admit(r *http.Request, t *track, id authn.Identity) *http.Request {
	if !h.ForwardCredentials {
		h.removeCredentials(r)
	}
	h.setIdentityHeaders(r.Header, id)
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Map(authn.Placeholders(id))
	}
	// Admissions are not logged here: Caddy's access log records each
	// request with {http.auth.user.id}. Refusals are logged (refusal.go).
	t.accepted.Inc()
	if ctx := authn.WithIdentity(r.Context(), id); ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	return r
}

// setIdentityHeaders replaces whatever the client sent under the identity
// prefix with the verified facts, so that the upstream can trust them.
func (h *Handler) setIdentityHeaders(hdr http.Header, id authn.Identity) {
	for name := range hdr {
		if strings.HasPrefix(name, h.IdentityHeaderPrefix) {
			delete(hdr, name)
		}
	}
	// One backing array for the values: this runs on every request.
	values := [...]string{
		headerValue(id.ClientID),
		headerValue(id.Subject),
		headerValue(strings.Join(id.Scopes, " ")),
		string(id.Track),
		headerValue(id.KeyID),
		headerValue(id.Issuer),
	}
	v := values[:]
	hdr[h.headerNames[0]] = v[0:1:1]
	hdr[h.headerNames[1]] = v[1:2:2]
	hdr[h.headerNames[2]] = v[2:3:3]
	hdr[h.headerNames[3]] = v[3:4:4]
	if id.KeyID != "" {
		hdr[h.headerNames[4]] = v[4:5:5]
	}
	if id.Issuer != "" {
		hdr[h.headerNames[5]] = v[5:6:6]
	}
}

// headerValue drops control characters, which a token's claims could
// carry but an HTTP header must not.
func headerValue(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// validHeaderPrefix reports whether p can start a header name: RFC 9110
// token characters only.
func validHeaderPrefix(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
