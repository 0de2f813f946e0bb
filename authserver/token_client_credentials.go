package authserver

import (
	"context"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// userScopes only make sense with a user; a client acting for itself
// cannot ask for them.
var userScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

// ClientCredentialsExchange issues an access token for the client itself
// (`sub` = client id), never a refresh token. Without `scope` the token
// carries every scope the client is allowed, as IdentityServer does.
func (p *provider) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	scopes := []string(r.Data.Scope)
	if len(scopes) == 0 {
		scopes = slices.DeleteFunc(slices.Clone(c.Scopes), func(s string) bool { return slices.Contains(userScopes, s) })
	}
	for _, s := range scopes {
		if !c.IsScopeAllowed(s) || slices.Contains(userScopes, s) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope not allowed for this client")
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	token, _, err := p.s.issueAccessToken(grant{client: c, subject: c.ID, scopes: scopes})
	if err != nil {
		return nil, p.internalError(ctx, "issuing access token", err)
	}
	p.s.tokenIssued(ctx, store.GrantClientCredentials, c.ID, c.ID, scopes)
	return op.NewResponse(&tokenResponse{
		AccessToken: token,
		ExpiresIn:   int64(c.accessTokenLifetime().Seconds()),
		TokenType:   oidc.BearerToken,
		Scope:       strings.Join(scopes, " "),
	}), nil
}
