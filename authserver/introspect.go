package authserver

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Introspect answers RFC 7662 introspection for confidential clients:
// access tokens this server signed (active until they expire or are
// revoked, e.g. by a code replay) and refresh tokens (active until used,
// expired or their family revoked). Anything else is {"active": false}.
func (p *provider) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	caller, err := p.authenticateClient(ctx, r.Data.ClientCredentials)
	if err != nil {
		return nil, err
	}
	if caller.Public {
		return nil, errInvalidClient()
	}
	token := r.Data.Token
	if claims, err := p.s.verifyAccessToken(ctx, token); err == nil {
		resp := &oidc.IntrospectionResponse{
			Active:     true,
			Scope:      claims.Scope.scopes,
			ClientID:   claims.ClientID,
			TokenType:  oidc.BearerToken,
			Expiration: oidc.FromTime(time.Unix(claims.Expiry, 0)),
			IssuedAt:   oidc.FromTime(time.Unix(claims.IssuedAt, 0)),
			NotBefore:  oidc.FromTime(time.Unix(claims.NotBefore, 0)),
			Subject:    claims.Subject,
			Audience:   oidc.Audience(claims.Audience),
			Issuer:     claims.Issuer,
			JWTID:      claims.JWTID,
		}
		if claims.AuthTime != 0 {
			resp.AuthTime = oidc.FromTime(time.Unix(claims.AuthTime, 0))
		}
		return op.NewResponse(resp), nil
	} else if !errors.Is(err, errBadToken) {
		return nil, p.internalError(ctx, "introspecting access token", err)
	}
	rt, err := p.s.st.GetRefreshToken(ctx, store.Hash(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return op.NewResponse(&oidc.IntrospectionResponse{Active: false}), nil
	case err != nil:
		return nil, p.internalError(ctx, "introspecting refresh token", err)
	}
	if rt.FamilyRevoked || !rt.RotatedAt.IsZero() || !p.s.now().Before(rt.ExpiresAt) {
		return op.NewResponse(&oidc.IntrospectionResponse{Active: false}), nil
	}
	return op.NewResponse(&oidc.IntrospectionResponse{
		Active:     true,
		Scope:      rt.Scopes,
		ClientID:   rt.ClientID,
		TokenType:  "refresh_token",
		Expiration: oidc.FromTime(rt.ExpiresAt),
		IssuedAt:   oidc.FromTime(rt.CreatedAt),
		Subject:    rt.UserID,
		Issuer:     p.s.cfg.Issuer,
	}), nil
}
