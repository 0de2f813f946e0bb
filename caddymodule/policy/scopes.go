package policy

import "github.com/gatehouse-gw/gatehouse/caddymodule/authn"

// missingScopes lists the required scopes the identity lacks.
func (h *Handler) missingScopes(id authn.Identity) []string {
	var missing []string
	for _, s := range h.Scopes {
		if !id.HasScope(s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// validScope reports whether s is a scope token (RFC 6749 section 3.3):
// one or more of %x21 / %x23-5B / %x5D-7E.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
