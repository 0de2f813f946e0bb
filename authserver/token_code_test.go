package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// codeFor runs authorize, login and consent for the portal client and
// returns the code; state and nonce are checked on the way back.
func (e *env) codeFor(b *browser, verifier string, opts ...oauth2.AuthCodeOption) string {
	e.t.Helper()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-0S6_WzA2Mj"))
	back := b.login(e.portalConfig().AuthCodeURL("xyz-state", opts...))
	q := back.Query()
	if back.Scheme+"://"+back.Host+back.Path != appRedirect || q.Get("state") != "xyz-state" || q.Get("iss") != e.issuer || q.Get("code") == "" {
		e.t.Fatalf("returned to %s", back)
	}
	return q.Get("code")
}

// TestCodeFlowWithPKCE runs the code flow with x/oauth2's PKCE helpers,
// verifies the ID token with go-oidc, reads userinfo and refreshes.
func TestCodeFlowWithPKCE(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), http.DefaultClient)
	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.portalConfig()
	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(e.newBrowser(), verifier)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("scope") != "admin.read email offline_access openid profile" {
		t.Fatalf("token %+v scope %v", tok, tok.Extra("scope"))
	}

	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: appID, Now: e.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc refused the ID token: %v", err)
	}
	if idToken.Nonce != "n-0S6_WzA2Mj" {
		t.Fatalf("nonce %q", idToken.Nonce)
	}
	if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var idClaims struct {
		AuthTime          int64  `json:"auth_time"`
		SID               string `json:"sid"`
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idToken.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	if idClaims.AuthTime != e.clock.Now().Unix() || idClaims.SID == "" || idClaims.Name != "Alice Liddell" ||
		idClaims.PreferredUsername != testUser || idClaims.Email != "alice@example.com" {
		t.Fatalf("ID token claims %+v", idClaims)
	}

	header, access := jwtParts(t, tok.AccessToken)
	if header["typ"] != "at+jwt" || access["sub"] != idToken.Subject || access["client_id"] != appID || access["auth_time"] == nil {
		t.Fatalf("access token %v %v", header, access)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var profile struct {
		Name       string `json:"name"`
		FamilyName string `json:"family_name"`
	}
	_ = info.Claims(&profile)
	if info.Subject != idToken.Subject || info.Email != "alice@example.com" || !info.EmailVerified || profile.FamilyName != "Liddell" {
		t.Fatalf("userinfo %+v %+v", info, profile)
	}
	// Userinfo by POST with the token in the form, too.
	got := e.post(authserver.PathUserinfo, url.Values{"access_token": {tok.AccessToken}}, "", "")
	if got.status != 200 || got.raw["sub"] != idToken.Subject {
		t.Fatalf("POST userinfo %d %v", got.status, got.raw)
	}

	// Refresh through the library: a new refresh token every time.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	refreshed, err := cfg.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
}

// TestRefreshTokenReuseRevokesFamily presents a spent refresh token.
func TestRefreshTokenReuseRevokesFamily(t *testing.T) {
	e := newEnv(t)
	verifier := oauth2.GenerateVerifier()
	first := e.exchange(e.codeFor(e.newBrowser(), verifier), verifier, appRedirect)
	refresh := func(rt string) oauthJSON {
		return e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {appID}}, "", "")
	}
	second := refresh(first.Refresh)
	if second.status != 200 || second.Refresh == "" {
		t.Fatalf("refresh: %d %v", second.status, second.raw)
	}
	// The first refresh token is spent: using it again is reuse.
	if got := refresh(first.Refresh); got.status != 400 || got.Error != "invalid_grant" {
		t.Fatalf("reuse: %d %v", got.status, got.raw)
	}
	// ... which revoked the family: the live successor and its access token die too.
	if got := refresh(second.Refresh); got.Error != "invalid_grant" {
		t.Fatalf("successor after reuse: %d %v", got.status, got.raw)
	}
	if e.introspect(second.Access) || e.introspect(first.Access) {
		t.Fatal("access tokens of a revoked family introspect active")
	}
	// Another client cannot use the token, and scopes cannot widen.
	third := e.exchange(e.codeFor(e.newBrowser(), verifier), verifier, appRedirect)
	if got := e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.Refresh}, "client_id": {otherAppID}}, "", ""); got.Error != "unauthorized_client" && got.Error != "invalid_grant" {
		t.Fatalf("foreign client refresh: %v", got.raw)
	}
	if got := e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.Refresh}, "client_id": {appID}, "scope": {"admin.write"}}, "", ""); got.Error != "invalid_scope" {
		t.Fatalf("widened scope: %v", got.raw)
	}
}

// exchange redeems a code for the portal client as a raw form post.
func (e *env) exchange(code, verifier, redirect string) oauthJSON {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {appID}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return e.post(authserver.PathToken, form, "", "")
}

func TestCodeExchangeRefusals(t *testing.T) {
	e := newEnv(t)
	verifier := oauth2.GenerateVerifier()
	b := e.newBrowser()

	t.Run("replay revokes the tokens", func(t *testing.T) {
		code := e.codeFor(b, verifier)
		first := e.exchange(code, verifier, appRedirect)
		if first.status != 200 || !e.introspect(first.Access) {
			t.Fatalf("first exchange %d %v", first.status, first.raw)
		}
		if got := e.exchange(code, verifier, appRedirect); got.status != 400 || got.Error != "invalid_grant" {
			t.Fatalf("replay: %d %v", got.status, got.raw)
		}
		if e.introspect(first.Access) {
			t.Fatal("access token from a replayed code introspects active")
		}
		if got := e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.Refresh}, "client_id": {appID}}, "", ""); got.Error != "invalid_grant" {
			t.Fatalf("refresh token from a replayed code: %v", got.raw)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		code := e.codeFor(b, verifier)
		if got := e.exchange(code, oauth2.GenerateVerifier(), appRedirect); got.Error != "invalid_grant" {
			t.Fatalf("%v", got.raw)
		}
		// The right verifier still works: a failed attempt does not burn the code.
		if got := e.exchange(code, verifier, appRedirect); got.status != 200 {
			t.Fatalf("%v", got.raw)
		}
	})
	t.Run("missing verifier", func(t *testing.T) {
		if got := e.exchange(e.codeFor(b, verifier), "", appRedirect); got.status != 400 || got.Error == "" {
			t.Fatalf("%d %v", got.status, got.raw)
		}
	})
	t.Run("redirect URI mismatch", func(t *testing.T) {
		if got := e.exchange(e.codeFor(b, verifier), verifier, "http://localhost:3001/other"); got.Error != "invalid_grant" {
			t.Fatalf("%v", got.raw)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		code := e.codeFor(b, verifier)
		e.clock.Advance(authserver.DefaultCodeLifetime)
		if got := e.exchange(code, verifier, appRedirect); got.Error != "invalid_grant" {
			t.Fatalf("%v", got.raw)
		}
	})
	t.Run("another client's code", func(t *testing.T) {
		code := e.codeFor(b, verifier)
		got := e.post(authserver.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {otherAppID},
			"redirect_uri": {"http://localhost:3002/cb"}, "code_verifier": {verifier}}, "", "")
		if got.Error != "invalid_grant" {
			t.Fatalf("%v", got.raw)
		}
	})
	t.Run("unknown code", func(t *testing.T) {
		if got := e.exchange("made-up", verifier, appRedirect); got.Error != "invalid_grant" {
			t.Fatalf("%v", got.raw)
		}
	})
}

// authorizeError starts an authorization request and expects it to come
// straight back to the client with an error.
func authorizeError(t *testing.T, b *browser, rawURL, wantError string) {
	t.Helper()
	p := b.get(rawURL)
	if p.location == nil {
		t.Fatalf("not redirected: %d %s", p.status, p.body)
	}
	q := p.location.Query()
	if !strings.HasPrefix(p.location.String(), appRedirect) || q.Get("error") != wantError || q.Get("state") != "st" {
		t.Fatalf("redirected to %s, want error %s with state", p.location, wantError)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	base := url.Values{"client_id": {appID}, "redirect_uri": {appRedirect}, "response_type": {"code"}, "scope": {"openid admin.read"},
		"state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	with := func(changes map[string]string) string {
		v := url.Values{}
		for k, x := range base {
			v[k] = x
		}
		for k, x := range changes {
			if x == "" {
				v.Del(k)
			} else {
				v.Set(k, x)
			}
		}
		return e.issuer + authserver.PathAuthorize + "?" + v.Encode()
	}
	authorizeError(t, b, with(map[string]string{"code_challenge_method": "plain", "code_challenge": strings.Repeat("a", 43)}), "invalid_request")
	authorizeError(t, b, with(map[string]string{"code_challenge_method": ""}), "invalid_request")
	authorizeError(t, b, with(map[string]string{"code_challenge": "", "code_challenge_method": ""}), "invalid_request")
	authorizeError(t, b, with(map[string]string{"scope": "openid admin.write"}), "invalid_scope")
	// The implicit flow is refused; op will not send its error to a plain-http redirect URI.
	if p := b.get(with(map[string]string{"response_type": "token"})); p.status != http.StatusBadRequest || p.location != nil {
		t.Errorf("response_type=token: %d %v", p.status, p.location)
	}

	// Never redirected: an unknown client or an unregistered redirect URI.
	for name, u := range map[string]string{
		"unknown client":          with(map[string]string{"client_id": "nobody"}),
		"redirect URI mismatch":   with(map[string]string{"redirect_uri": "http://localhost:3001/api/auth/callback/evil"}),
		"redirect URI other port": with(map[string]string{"redirect_uri": "http://localhost:4000/api/auth/callback/rsa"}),
		"missing redirect URI":    with(map[string]string{"redirect_uri": ""}),
	} {
		p := b.get(u)
		if p.location != nil || p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in problem") {
			t.Errorf("%s: %d location %v", name, p.status, p.location)
		}
	}
}

// TestAuthorizeClientWithoutCodeGrant: a client-credentials client
// cannot start the code flow.
func TestAuthorizeClientWithoutCodeGrant(t *testing.T) {
	e := newEnv(t)
	p := e.newBrowser().get(e.issuer + authserver.PathAuthorize + "?client_id=" + serviceID + "&redirect_uri=x")
	if p.status != http.StatusBadRequest || p.location != nil {
		t.Fatalf("%d %v", p.status, p.location)
	}
}
