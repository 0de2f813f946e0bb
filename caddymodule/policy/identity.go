package policy

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// DefaultIdentityHeaderPrefix starts the names of the identity headers.
const DefaultIdentityHeaderPrefix = "X-Auth-"

// Identity header names, after the prefix.
const (
	headerClientID = "Client-Id"
	headerSubject  = "Subject"
	headerScopes   = "Scopes"
	headerTrack    = "Track"
	headerKeyID    = "Key-Id"
)

// admit hands the verified identity on: to later handlers through the
// request context and placeholders, and to the upstream as headers.
func (h *Handler) admit(r *http.Request, id authn.Identity) *http.Request {
	h.setIdentityHeaders(r.Header, id)

	user := authn.User(id)
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set("http.auth.user.id", user.ID)
		for k, v := range user.Metadata {
			repl.Set("http.auth.user."+k, v)
		}
	}
	decisions.WithLabelValues(string(id.Track), outcomeAccepted, "").Inc()
	if c := h.logger.Check(zap.DebugLevel, "request admitted"); c != nil {
		c.Write(zap.String("track", string(id.Track)), zap.String("client_id", id.ClientID),
			zap.String("subject", id.Subject), zap.String("key_id", id.KeyID))
	}
	return r.WithContext(authn.WithIdentity(r.Context(), id))
}

// setIdentityHeaders replaces whatever the client sent under the identity
// prefix with the verified facts, so that the upstream can trust them.
func (h *Handler) setIdentityHeaders(hdr http.Header, id authn.Identity) {
	for name := range hdr {
		if strings.HasPrefix(name, h.IdentityHeaderPrefix) {
			delete(hdr, name)
		}
	}
	p := h.IdentityHeaderPrefix
	hdr[p+headerClientID] = []string{headerValue(id.ClientID)}
	hdr[p+headerSubject] = []string{headerValue(id.Subject)}
	hdr[p+headerScopes] = []string{headerValue(strings.Join(id.Scopes, " "))}
	hdr[p+headerTrack] = []string{string(id.Track)}
	if id.KeyID != "" {
		hdr[p+headerKeyID] = []string{headerValue(id.KeyID)}
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
