package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// provider implements op.Server: op parses and routes each request, and
// provider answers it from the Server's store and keys. Its methods are
// spread over the files named after the endpoints.
type provider struct {
	op.UnimplementedServer
	s *Server
}

// internalError logs err and returns the opaque server_error the client
// sees; internal detail never reaches a response.
func (p *provider) internalError(ctx context.Context, what string, err error) error {
	p.s.log.ErrorContext(ctx, "authserver: "+what, "error", err)
	return oidc.ErrServerError().WithDescription("internal error")
}

// Health answers /healthz.
func (p *provider) Health(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Ready answers /ready: the store answers and a key signs.
func (p *provider) Ready(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	if _, err := p.s.st.GetClient(ctx, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, op.NewStatusError(oidc.ErrServerError().WithDescription("store unavailable"), http.StatusServiceUnavailable)
	}
	if _, err := p.s.keys.Signer(); err != nil {
		return nil, op.NewStatusError(oidc.ErrServerError().WithDescription("no signing key"), http.StatusServiceUnavailable)
	}
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Keys serves the JWKS: every published key, next, current and retiring.
func (p *provider) Keys(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	resp := op.NewResponse(json.RawMessage(p.s.keys.JWKS()))
	// Verifiers may cache briefly; new keys are published a lead ahead.
	resp.Header.Set("Cache-Control", "public, max-age=300")
	return resp, nil
}

// discovery is the discovery document with the RFC 9207 flag op's type lacks.
type discovery struct {
	oidc.DiscoveryConfiguration
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// standardScopes are the OpenID Connect scopes this server understands.
var standardScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}

// Discovery answers /.well-known/openid-configuration.
func (p *provider) Discovery(ctx context.Context, _ *op.Request[struct{}]) (*op.Response, error) {
	clients, err := p.s.st.ListClients(ctx)
	if err != nil {
		return nil, p.internalError(ctx, "listing clients for discovery", err)
	}
	scopes := slices.Clone(standardScopes)
	for _, c := range clients {
		scopes = append(scopes, c.Scopes...)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	iss := p.s.cfg.Issuer
	secretMethods := []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	doc := discovery{
		DiscoveryConfiguration: oidc.DiscoveryConfiguration{
			Issuer:                                    iss,
			AuthorizationEndpoint:                     iss + PathAuthorize,
			TokenEndpoint:                             iss + PathToken,
			IntrospectionEndpoint:                     iss + PathIntrospect,
			UserinfoEndpoint:                          iss + PathUserinfo,
			RevocationEndpoint:                        iss + PathRevocation,
			EndSessionEndpoint:                        iss + PathEndSession,
			JwksURI:                                   iss + PathJWKS,
			ScopesSupported:                           scopes,
			ResponseTypesSupported:                    []string{string(oidc.ResponseTypeCode)},
			ResponseModesSupported:                    []string{string(oidc.ResponseModeQuery)},
			GrantTypesSupported:                       []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeClientCredentials, oidc.GrantTypeRefreshToken},
			SubjectTypesSupported:                     []string{"public"},
			IDTokenSigningAlgValuesSupported:          []string{keys.Algorithm},
			TokenEndpointAuthMethodsSupported:         []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone},
			RevocationEndpointAuthMethodsSupported:    []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone},
			IntrospectionEndpointAuthMethodsSupported: secretMethods,
			ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "at_hash", "sid",
				"name", "given_name", "family_name", "preferred_username", "updated_at", "email", "email_verified"},
			CodeChallengeMethodsSupported: []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
			RequestParameterSupported:     false,
			RequestURIParameterSupported:  false,
		},
		AuthorizationResponseIssParameterSupported: true,
	}
	return op.NewResponse(doc), nil
}
