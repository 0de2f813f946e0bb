package authn

import (
	"errors"
	"net/http"
	"strings"

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
)

// User converts id to the caddyauth.User that Caddy turns into
// {http.auth.user.*} placeholders.
func User(id Identity) caddyauth.User {
	return caddyauth.User{
		ID: id.Subject,
		Metadata: map[string]string{
			MetaClientID: id.ClientID,
			MetaSubject:  id.Subject,
			MetaScopes:   strings.Join(id.Scopes, " "),
			MetaTrack:    string(id.Track),
			MetaKeyID:    id.KeyID,
		},
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
