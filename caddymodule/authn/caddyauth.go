package authn

import (
	"errors"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
)

// DefaultRealm is the realm named in challenges when none is configured.
const DefaultRealm = "gatehouse"

// Metadata keys of the caddyauth.User built from an Identity. After
// authentication they are the placeholders {http.auth.user.<key>}; the
// user id itself is the Identity's subject.
const (
	MetaClientID = "client_id"
	MetaSubject  = "subject"
	MetaScopes   = "scopes"
	MetaTrack    = "track"
	MetaKeyID    = "key_id"
	MetaIssuer   = "issuer"
)

// userFields are the {http.auth.user.*} fields of an identity besides id.
var userFields = [...]string{MetaClientID, MetaSubject, MetaScopes, MetaTrack, MetaKeyID, MetaIssuer}

// field returns one user field of id.
func (id Identity) field(name string) (string, bool) {
	switch name {
	case MetaClientID:
		return id.ClientID, true
	case MetaSubject:
		return id.Subject, true
	case MetaScopes:
		return strings.Join(id.Scopes, " "), true
	case MetaTrack:
		return string(id.Track), true
	case MetaKeyID:
		return id.KeyID, true
	case MetaIssuer:
		return id.Issuer, true
	}
	return "", false
}

// User converts id to the caddyauth.User that Caddy's stock
// authentication handler turns into {http.auth.user.*} placeholders.
func User(id Identity) caddyauth.User {
	md := make(map[string]string, len(userFields))
	for _, name := range userFields {
		md[name], _ = id.field(name)
	}
	return caddyauth.User{ID: id.Subject, Metadata: md}
}

// Placeholders resolves the {http.auth.user.*} placeholders of id when a
// placeholder is read, rather than writing all of them into the replacer
// on every request that few configurations ever look at.
func Placeholders(id Identity) caddy.ReplacerFunc {
	return func(key string) (any, bool) {
		name, ok := strings.CutPrefix(key, "http.auth.user.")
		if !ok {
			return nil, false
		}
		if name == "id" {
			return id.Subject, true
		}
		return id.field(name)
	}
}

// Authenticate adapts v to caddyauth.Authenticator, so that a track can
// also run inside Caddy's stock authentication handler. A refusal sets the
// track's WWW-Authenticate challenge and reports not authenticated; the
// stock handler then answers 401 without a body. Only an error that is not
// a *Failure is returned as an error.
func Authenticate(v Verifier, w http.ResponseWriter, r *http.Request) (caddyauth.User, bool, error) {
	credential, present, fail := v.Credential(r)
	if present && fail == nil {
		id, err := v.Verify(r.Context(), credential)
		if err == nil {
			return User(id), true, nil
		}
		if !errors.As(err, &fail) {
			return caddyauth.User{}, false, err
		}
	}
	w.Header().Add("WWW-Authenticate", Challenge(v.Scheme(), DefaultRealm, fail, ""))
	return caddyauth.User{}, false, nil
}
