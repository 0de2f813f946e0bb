// Package policy is the Gatehouse handler that guards a route: it finds the
// credential of one of the tracks the route accepts, has that track verify
// it, checks the scopes the route requires, and hands the caller's identity
// to the upstream as placeholders and request headers.
//
// Data flows one way: credential extraction (tracks.go), verification (the
// track's own module), scope policy (scopes.go), identity (identity.go),
// then the next handler. Refusals are answered here (refusal.go) in the
// shapes of RFC 6750.
package policy

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler admits a request only with a valid credential of an accepted
// track that carries every required scope.
//
// It plays the part of Caddy's stock `authentication` handler, with the
// same provider modules, because a gateway needs what that handler cannot
// give: tracks tried in a fixed order, a request carrying two credentials
// refused instead of resolved by chance, and refusals with the RFC 6750
// status codes and a JSON body rather than a bare 401.
//
// After a request passes, `{http.auth.user.id}` is the caller's subject and
// `{http.auth.user.client_id}`, `.subject`, `.scopes`, `.track` and
// `.key_id` and `.issuer` describe it; the same facts go upstream as
// request headers.
type Handler struct {
	// Tracks are the accepted authentication tracks, keyed by provider
	// module name: `gatehouse_bearer` and/or `gatehouse_api_key`. A request
	// must carry the credential of exactly one of them.
	TracksRaw caddy.ModuleMap `json:"tracks,omitempty" caddy:"namespace=http.authentication.providers"`

	// Scopes the caller must hold, all of them. Empty requires none.
	Scopes []string `json:"scopes,omitempty"`

	// Realm named in WWW-Authenticate challenges. Default: "gatehouse".
	Realm string `json:"realm,omitempty"`

	// IdentityHeaderPrefix names the identity request headers sent
	// upstream: <prefix>Client-Id, Subject, Scopes, Track, Key-Id and
	// Issuer (bearer track only). Every
	// request header the client sent with this prefix is removed first, so
	// an upstream can trust them. Default: "X-Auth-".
	IdentityHeaderPrefix string `json:"identity_header_prefix,omitempty"`

	// ForwardCredentials keeps the credential header (Authorization or
	// X-Api-Key) on the request sent upstream. By default it is removed, so
	// that the upstream never sees it. (Caddy's access log records request
	// headers as the client sent them: keep credentials out of it with a
	// log filter, as the default Caddyfile does.)
	ForwardCredentials bool `json:"forward_credentials,omitempty"`

	tracks      []*track
	headerNames [6]string // the identity headers, see identity.go
	logger      *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the tracks and registers the decision metrics.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.Realm == "" {
		h.Realm = authn.DefaultRealm
	}
	if h.IdentityHeaderPrefix == "" {
		h.IdentityHeaderPrefix = DefaultIdentityHeaderPrefix
	}
	h.IdentityHeaderPrefix = http.CanonicalHeaderKey(h.IdentityHeaderPrefix)
	h.headerNames = identityHeaderNames(h.IdentityHeaderPrefix)
	tracks, err := loadTracks(ctx, h)
	if err != nil {
		return err
	}
	h.tracks = tracks
	return metrics.Register(ctx.GetMetricsRegistry(), decisions)
}

// Validate rejects a configuration that could never admit anyone, or whose
// scopes or headers are malformed.
func (h *Handler) Validate() error {
	if len(h.tracks) == 0 {
		return errors.New("gatehouse: no track accepted: configure bearer and/or api_key")
	}
	for _, s := range h.Scopes {
		if !validScope(s) {
			return fmt.Errorf("gatehouse: scope %q is not a valid scope token (RFC 6749 section 3.3)", s)
		}
	}
	if !validHeaderPrefix(h.IdentityHeaderPrefix) {
		return fmt.Errorf("gatehouse: identity_header_prefix %q is not a header name prefix", h.IdentityHeaderPrefix)
	}
	return nil
}

// ServeHTTP admits or refuses the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	t, credential, fail := h.credential(r)
	if fail != nil {
		return h.refuse(w, r, t, fail)
	}
	if t == nil {
		return h.refuse(w, r, nil, authn.MissingCredential(h.missingDescription()))
	}
	id, err := t.Verify(r.Context(), credential)
	if err != nil {
		if errors.As(err, &fail) {
			return h.refuse(w, r, t, fail)
		}
		h.logger.Error("track could not decide", zap.String("track", string(t.Track())), zap.Error(err))
		return h.refuse(w, r, t, authn.Unavailable("internal_error", "the credential could not be checked; retry later"))
	}
	if missing := h.missingScopes(id); len(missing) > 0 {
		return h.refuseScope(w, r, t, id, missing)
	}
	return next.ServeHTTP(w, h.admit(r, t, id))
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
