package authserver

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// errInvalidToken is RFC 6750's refusal; bearerChallenge adds the header.
func errInvalidToken(description string) error {
	return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: description}, http.StatusUnauthorized)
}

// userinfoResponse is `sub` plus the claims the token's scopes release.
type userinfoResponse struct {
	Subject string `json:"sub"`
	userClaims
}

// UserInfo returns the profile and email claims of the user an access
// token was issued for, by the token's scopes. The token must carry
// `openid`: client-credentials tokens have no user.
func (p *provider) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	claims, err := p.s.verifyAccessToken(ctx, r.Data.AccessToken)
	if errors.Is(err, errBadToken) {
		return nil, errInvalidToken("access token invalid, expired or revoked")
	}
	if err != nil {
		return nil, p.internalError(ctx, "verifying access token", err)
	}
	if !slices.Contains(claims.Scope.scopes, oidc.ScopeOpenID) {
		return nil, op.NewStatusError(&oidc.Error{ErrorType: "insufficient_scope", Description: "the openid scope is required"}, http.StatusForbidden)
	}
	user, err := p.s.st.GetUser(ctx, claims.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidToken("the user no longer exists")
	}
	if err != nil {
		return nil, p.internalError(ctx, "reading user", err)
	}
	return op.NewResponse(&userinfoResponse{Subject: user.ID, userClaims: claimsFor(user, claims.Scope.scopes)}), nil
}
