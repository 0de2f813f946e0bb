package authserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
	"github.com/gatehouse-gw/gatehouse/internal/browsertest"
)

// chromium starts headless Chromium for the test.
func chromium(t *testing.T) context.Context { return browsertest.Start(t, 90*time.Second) }

// text reads the visible text of the element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

// TestBrowserCodeFlow: a person in Chromium goes through authorize,
// login and consent; the relying party gets the code and exchanges it
// with its PKCE verifier and no secret.
func TestBrowserCodeFlow(t *testing.T) {
	e := newEnv(t)
	ctx := chromium(t)

	// The relying party's callback shows the code it received.
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		fmt.Fprintf(w, `<p id="state">%s</p><p id="code">%s</p><p id="error">%s</p>`,
			htmlEscape(q.Get("state")), htmlEscape(q.Get("code")), htmlEscape(q.Get("error")))
	}))
	defer rp.Close()
	e.mustClient(authserver.ClientSpec{ID: "browser-app", Name: "Browser App", Public: true,
		GrantTypes: []string{store.GrantAuthorizationCode}, Scopes: []string{"openid", "profile", "admin.read"},
		RedirectURIs: []string{rp.URL + "/api/auth/callback/rsa"}}, e.clock.Now())
	cfg := &oauth2.Config{ClientID: "browser-app", RedirectURL: rp.URL + "/api/auth/callback/rsa", Scopes: []string{"openid", "admin.read"},
		Endpoint: oauth2.Endpoint{AuthURL: e.issuer + authserver.PathAuthorize, TokenURL: e.issuer + authserver.PathToken, AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()

	err := chromedp.Do(ctx,
		chromedp.Navigate(cfg.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), testUser),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value=allow]`)),
	)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	consentText := text(t, ctx, "main")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[value=allow]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	); err != nil {
		t.Fatalf("consent: %v", err)
	}
	state, code, errText := text(t, ctx, "#state"), text(t, ctx, "#code"), text(t, ctx, "#error")
	for _, words := range []string{"Browser App", "Sign you in and know who you are", "Read data through the admin API"} {
		if !strings.Contains(consentText, words) {
			t.Errorf("consent page lacks %q: %s", words, consentText)
		}
	}
	if state != "browser-state" || code == "" || errText != "" {
		t.Fatalf("callback got state %q code %q error %q", state, code, errText)
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if _, claims := jwtParts(t, tok.AccessToken); claims["client_id"] != "browser-app" || claims["scope"] != "admin.read openid" {
		t.Fatalf("access token claims %v", claims)
	}
	if tok.Extra("id_token") == nil {
		t.Fatal("no ID token for the openid scope")
	}

	// The seed's authorize request as written: no state, no nonce.
	seedURL := e.issuer + authserver.PathAuthorize + "?client_id=browser-app&redirect_uri=" + url.QueryEscape(cfg.RedirectURL) +
		"&response_type=code&scope=" + url.QueryEscape("openid admin.read") +
		"&code_challenge=" + oauth2.S256ChallengeFromVerifier(verifier) + "&code_challenge_method=S256"
	if err := chromedp.Do(ctx, chromedp.Navigate(seedURL), chromedp.WaitVisible(chromedp.ID("code"))); err != nil {
		t.Fatalf("seed authorize request: %v", err)
	}
	if code := text(t, ctx, "#code"); code == "" {
		t.Fatal("seed authorize request with a live session and consent returned no code")
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
