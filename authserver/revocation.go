package authserver

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Revocation implements RFC 7009. A refresh token revokes its family
// (and the access tokens issued with it); an access token is recorded as
// revoked, which introspection and userinfo honour. The gateway verifies
// JWTs on its own and keeps accepting a revoked access token until it
// expires. Tokens that are unknown or another client's are ignored, with
// the same 200 answer.
func (p *provider) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	token := r.Data.Token
	rt, err := p.s.st.GetRefreshToken(ctx, store.Hash(token))
	switch {
	case err == nil:
		if rt.ClientID == c.ID {
			if err := p.s.st.RevokeFamily(ctx, rt.FamilyID, p.s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, p.internalError(ctx, "revoking refresh token", err)
			}
		}
		return op.NewResponse(nil), nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, p.internalError(ctx, "reading refresh token", err)
	}
	claims, err := p.s.verifyAccessToken(ctx, token)
	if errors.Is(err, errBadToken) || err == nil && claims.ClientID != c.ID {
		return op.NewResponse(nil), nil
	}
	if err != nil {
		return nil, p.internalError(ctx, "verifying access token", err)
	}
	if err := p.s.st.RevokeToken(ctx, store.TokenRef{ID: claims.JWTID, ExpiresAt: time.Unix(claims.Expiry, 0)}); err != nil {
		return nil, p.internalError(ctx, "revoking access token", err)
	}
	return op.NewResponse(nil), nil
}
