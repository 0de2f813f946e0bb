package authserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// jwtParts decodes a JWT's header and claims without verifying it.
func jwtParts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// verifyWithJWKS checks token's signature against the JWKS served now.
func (e *env) verifyWithJWKS(token string) error {
	resp, err := http.Get(e.issuer + authserver.PathJWKS)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return errNoKey
	}
	_, err = jws.Verify(keys[0].Key)
	return err
}

type testError string

func (e testError) Error() string { return string(e) }

const errNoKey = testError("kid not in the JWKS")

func TestDiscoveryDocument(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.issuer + authserver.PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer":                 e.issuer,
		"authorization_endpoint": e.issuer + "/connect/authorize",
		"token_endpoint":         e.issuer + "/connect/token",
		"userinfo_endpoint":      e.issuer + "/connect/userinfo",
		"introspection_endpoint": e.issuer + "/connect/introspect",
		"revocation_endpoint":    e.issuer + "/connect/revocation",
		"end_session_endpoint":   e.issuer + "/connect/endsession",
		"jwks_uri":               e.issuer + "/.well-known/openid-configuration/jwks",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	lists := map[string][]string{
		"grant_types_supported":                 {"authorization_code", "client_credentials", "refresh_token"},
		"code_challenge_methods_supported":      {"S256"},
		"response_types_supported":              {"code"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                      {"admin.read", "admin.write", "email", "offline_access", "openid", "profile"},
	}
	for k, v := range lists {
		var got []string
		for _, x := range doc[k].([]any) {
			got = append(got, x.(string))
		}
		if !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

// TestSeedClientCredentialsRequest sends the seed document's curl request
// (credentials in the form) and checks the answer's exact shape.
func TestSeedClientCredentialsRequest(t *testing.T) {
	e := newEnv(t)
	got := e.post(authserver.PathToken, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {serviceID},
		"client_secret": {e.serviceSecret},
		"scope":         {"admin.read"},
	}, "", "")
	if got.status != http.StatusOK {
		t.Fatalf("status %d: %v", got.status, got.raw)
	}
	keys := make([]string, 0, len(got.raw))
	for k := range got.raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"access_token", "expires_in", "scope", "token_type"}) {
		t.Fatalf("response fields %v", keys)
	}
	if got.raw["expires_in"] != float64(3600) || got.raw["token_type"] != "Bearer" || got.raw["scope"] != "admin.read" {
		t.Fatalf("response %v", got.raw)
	}
	if got.header.Get("Cache-Control") != "no-store" || got.header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %v", got.header)
	}
	if !strings.HasPrefix(got.Access, "eyJhbGciOiJSUzI1NiIs") {
		t.Fatalf("access token does not start like an RS256 JWT: %.30s", got.Access)
	}

	header, claims := jwtParts(t, got.Access)
	if header["typ"] != "at+jwt" || header["alg"] != "RS256" || header["kid"] == "" {
		t.Fatalf("header %v", header)
	}
	now := float64(e.clock.Now().Unix())
	if claims["iss"] != e.issuer || claims["sub"] != serviceID || claims["client_id"] != serviceID ||
		claims["aud"] != e.issuer+"/resources" || claims["scope"] != "admin.read" ||
		claims["iat"] != now || claims["nbf"] != now || claims["exp"] != now+3600 || claims["jti"] == "" {
		t.Fatalf("claims %v", claims)
	}
	if err := e.verifyWithJWKS(got.Access); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if !e.introspect(got.Access) {
		t.Fatal("fresh token introspects inactive")
	}
	e.clock.Advance(time.Hour)
	if e.introspect(got.Access) {
		t.Fatal("expired token introspects active")
	}
}

// TestClientCredentialsWithOAuth2Library gets tokens with x/oauth2's
// clientcredentials, with the secret in the Basic header and in the form.
func TestClientCredentialsWithOAuth2Library(t *testing.T) {
	e := newEnv(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{ClientID: serviceID, ClientSecret: e.serviceSecret, TokenURL: e.issuer + authserver.PathToken,
			Scopes: []string{"admin.read", "admin.write"}, AuthStyle: style}
		tok, err := cfg.Token(context.Background())
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Extra("scope") != "admin.read admin.write" {
			t.Fatalf("style %d: token %+v scope %v", style, tok, tok.Extra("scope"))
		}
		if d := time.Until(tok.Expiry); d < 59*time.Minute || d > 61*time.Minute {
			t.Fatalf("expiry in %s", d)
		}
	}
	// Without scope: every scope the client may have.
	cfg := clientcredentials.Config{ClientID: serviceID, ClientSecret: e.serviceSecret, TokenURL: e.issuer + authserver.PathToken}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("scope") != "admin.read admin.write" {
		t.Fatalf("default scope %v", tok.Extra("scope"))
	}
}

func TestClientCredentialsRefusals(t *testing.T) {
	e := newEnv(t)
	cc := func(extra url.Values) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	cases := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		error      string
		challenge  bool
	}{
		{"wrong secret, Basic", cc(nil), serviceID, "wrong", 401, "invalid_client", true},
		{"wrong secret, post", cc(url.Values{"client_id": {serviceID}, "client_secret": {"wrong"}}), "", "", 401, "invalid_client", false},
		{"no secret", cc(url.Values{"client_id": {serviceID}}), "", "", 401, "invalid_client", false},
		{"unknown client, Basic", cc(nil), "nobody", "secret", 401, "invalid_client", true},
		{"unknown client, post", cc(url.Values{"client_id": {"nobody"}, "client_secret": {"x"}}), "", "", 401, "invalid_client", false},
		{"scope not allowed", cc(url.Values{"scope": {"pos.write"}}), serviceID, e.serviceSecret, 400, "invalid_scope", false},
		{"user scope", cc(url.Values{"scope": {"openid"}}), serviceID, e.serviceSecret, 400, "invalid_scope", false},
		{"public client", cc(url.Values{"client_id": {appID}}), "", "", 400, "unauthorized_client", false},
		{"grant not allowed", cc(nil), webAppID, e.webAppSecret, 400, "unauthorized_client", false},
		{"password grant", url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}}, serviceID, e.serviceSecret, 400, "unsupported_grant_type", false},
		{"no grant type", url.Values{}, serviceID, e.serviceSecret, 400, "invalid_request", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := e.post(authserver.PathToken, c.form, c.user, c.pass)
			if got.status != c.status || got.Error != c.error {
				t.Fatalf("got %d %v, want %d %s", got.status, got.raw, c.status, c.error)
			}
			if challenge := got.header.Get("WWW-Authenticate"); c.challenge != strings.HasPrefix(challenge, "Basic ") {
				t.Fatalf("WWW-Authenticate %q", challenge)
			}
			if got.Access != "" {
				t.Fatal("refusal carries a token")
			}
		})
	}
}

// TestScopeClaimArray checks IdentityServer's array form, per client and globally.
func TestScopeClaimArray(t *testing.T) {
	e := newEnv(t)
	_, secret := e.mustClient(authserver.ClientSpec{ID: "legacy", GrantTypes: []string{store.GrantClientCredentials},
		Scopes: []string{"admin.read", "admin.write"}, ScopeFormat: store.ScopeFormatArray, AccessTokenLifetime: 600}, e.clock.Now())
	got := e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}}, "legacy", secret)
	if got.status != 200 || got.raw["expires_in"] != float64(600) {
		t.Fatalf("%d %v", got.status, got.raw)
	}
	_, claims := jwtParts(t, got.Access)
	if scopes, ok := claims["scope"].([]any); !ok || len(scopes) != 2 || scopes[0] != "admin.read" {
		t.Fatalf("scope claim %#v", claims["scope"])
	}
	if !e.introspect(got.Access) {
		t.Fatal("array-scoped token not accepted by introspection")
	}

	g := newEnv(t, func(c *authserver.Config) { c.ScopeFormat = store.ScopeFormatArray })
	got = g.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}, serviceID, g.serviceSecret)
	if _, claims := jwtParts(t, got.Access); claims["scope"] == "admin.read" {
		t.Fatal("global array format ignored")
	}
}
