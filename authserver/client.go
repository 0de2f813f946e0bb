package authserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// client adapts a stored client to op.Client.
type client struct {
	store.Client
	cfg *Config
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }

// ApplicationType is web for every client: redirect URIs are matched
// exactly (op's native type would accept any port on loopback), and
// plain-http redirect URIs such as a local portal's are allowed for the
// code flow, which PKCE protects.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if c.allows(store.GrantAuthorizationCode) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c *client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.Client.GrantTypes))
	for i, g := range c.Client.GrantTypes {
		out[i] = oidc.GrantType(g)
	}
	return out
}

func (c *client) allows(grant string) bool { return slices.Contains(c.Client.GrantTypes, grant) }

func (c *client) LoginURL(id string) string            { return PathLogin + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.cfg.IDTokenLifetime }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.Scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// lifetime caps a client's own lifetime (or the default) at the maximum.
func (c *client) lifetime(own, def time.Duration) time.Duration {
	d := def
	if own > 0 {
		d = own
	}
	return min(d, c.cfg.MaxTokenLifetime)
}

func (c *client) accessTokenLifetime() time.Duration {
	return c.lifetime(c.AccessTokenLifetime, c.cfg.AccessTokenLifetime)
}

func (c *client) refreshTokenLifetime() time.Duration {
	if c.RefreshTokenLifetime > 0 {
		return c.RefreshTokenLifetime
	}
	return c.cfg.RefreshTokenLifetime
}

func (c *client) codeLifetime() time.Duration {
	if c.CodeLifetime > 0 {
		return c.CodeLifetime
	}
	return c.cfg.CodeLifetime
}

func (c *client) audience() []string {
	if len(c.Audience) > 0 {
		return c.Audience
	}
	return c.cfg.Audience
}

func (c *client) scopeFormat() string {
	if c.ScopeFormat != "" {
		return c.ScopeFormat
	}
	return c.cfg.ScopeFormat
}

// errInvalidClient is the one answer to every failed client
// authentication, 401 as RFC 6749 section 5.2 asks; which part was wrong
// is not told.
func errInvalidClient() error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
}

// dummySecretHash is compared against when the client id is unknown, so
// an unknown id costs what a wrong secret costs.
var dummySecretHash = store.Hash("gatehouse: no such client")

// VerifyClient authenticates the client of a token, introspection or
// revocation request: confidential clients by secret (Basic or form),
// public clients by id alone. Client assertions are not supported.
func (p *provider) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	return p.authenticateClient(ctx, r.Data)
}

func (p *provider) authenticateClient(ctx context.Context, cc *op.ClientCredentials) (*client, error) {
	if cc.ClientAssertion != "" {
		return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client assertions are not supported"), http.StatusUnauthorized)
	}
	stored, err := p.s.st.GetClient(ctx, cc.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		secretMatches(cc.ClientSecret, dummySecretHash)
		return nil, errInvalidClient()
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading client", err)
	}
	c := &client{Client: stored, cfg: &p.s.cfg}
	if c.Public {
		if cc.ClientSecret != "" {
			return nil, errInvalidClient()
		}
		return c, nil
	}
	if cc.ClientSecret == "" || !secretMatches(cc.ClientSecret, c.SecretHash) {
		return nil, errInvalidClient()
	}
	return c, nil
}
