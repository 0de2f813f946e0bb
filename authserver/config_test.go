package authserver_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

func TestConfigBounds(t *testing.T) {
	base := func() authserver.Config { return authserver.Config{Issuer: "http://localhost:5000"} }
	refused := map[string]func(*authserver.Config){
		"negative lifetime":               func(c *authserver.Config) { c.IDTokenLifetime = -time.Hour },
		"access token over the maximum":   func(c *authserver.Config) { c.AccessTokenLifetime = 25 * time.Hour },
		"ID token over the maximum":       func(c *authserver.Config) { c.MaxTokenLifetime = 30 * time.Minute },
		"maximum over 7 days":             func(c *authserver.Config) { c.MaxTokenLifetime = 8 * 24 * time.Hour },
		"seconds for minutes":             func(c *authserver.Config) { c.AccessTokenLifetime = 5 * time.Second },
		"code over 10 minutes":            func(c *authserver.Config) { c.CodeLifetime = 11 * time.Minute },
		"code under 10 seconds":           func(c *authserver.Config) { c.CodeLifetime = time.Second },
		"refresh token over a year":       func(c *authserver.Config) { c.RefreshTokenLifetime = 400 * 24 * time.Hour },
		"session over 30 days":            func(c *authserver.Config) { c.SessionLifetime = 31 * 24 * time.Hour },
		"auth request over a day":         func(c *authserver.Config) { c.AuthRequestLifetime = 25 * time.Hour },
		"rotation under an hour":          func(c *authserver.Config) { c.KeyRotationInterval = 30 * time.Minute; c.KeyPublishLead = time.Minute },
		"lead not shorter than rotation":  func(c *authserver.Config) { c.KeyRotationInterval = 2 * time.Hour; c.KeyPublishLead = 2 * time.Hour },
		"throttle window over a day":      func(c *authserver.Config) { c.LoginThrottle.Window = 48 * time.Hour },
		"throttle window under a minute":  func(c *authserver.Config) { c.LoginThrottle.Window = time.Second },
		"negative throttle limit":         func(c *authserver.Config) { c.LoginThrottle.PerAccount = -1 },
		"per-account limit over 1000":     func(c *authserver.Config) { c.LoginThrottle.PerAccount = 1001 },
		"per-address limit over 100000":   func(c *authserver.Config) { c.LoginThrottle.PerAddress = 100_001 },
		"description of an invalid scope": func(c *authserver.Config) { c.ScopeDescriptions = map[string]string{"two words": "x"} },
		"empty description":               func(c *authserver.Config) { c.ScopeDescriptions = map[string]string{"orders": ""} },
		"description with a newline":      func(c *authserver.Config) { c.ScopeDescriptions = map[string]string{"orders": "a\nb"} },
		"description too long": func(c *authserver.Config) {
			c.ScopeDescriptions = map[string]string{"orders": strings.Repeat("x", 201)}
		},
	}
	for name, mutate := range refused {
		c := base()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The extremes are accepted, and so are the defaults.
	c := base()
	c.MaxTokenLifetime, c.AccessTokenLifetime, c.IDTokenLifetime = 7*24*time.Hour, 7*24*time.Hour, time.Minute
	c.CodeLifetime, c.RefreshTokenLifetime, c.SessionLifetime = 10*time.Minute, 365*24*time.Hour, 30*24*time.Hour
	c.KeyRotationInterval, c.KeyPublishLead = time.Hour, 59*time.Minute
	c.LoginThrottle = authserver.ThrottleConfig{PerAccount: 1000, PerAddress: 100_000, Window: 24 * time.Hour}
	c.ScopeDescriptions = map[string]string{"orders.read": "See your orders"}
	for _, ok := range []authserver.Config{base(), c} {
		if err := ok.Validate(); err != nil {
			t.Errorf("refused %+v: %v", ok, err)
		}
	}
}

// TestConfiguredLifetimesAndWords runs a server whose every configurable
// lifetime, throttle limit and consent wording differs from the defaults,
// and checks that each one is what the server does.
func TestConfiguredLifetimesAndWords(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.IDTokenLifetime = 10 * time.Minute
		c.CodeLifetime = 30 * time.Second
		c.RefreshTokenLifetime = 2 * time.Hour
		c.SessionLifetime = time.Hour
		c.AuthRequestLifetime = 5 * time.Minute
		c.LoginThrottle = authserver.ThrottleConfig{PerAccount: 2, PerAddress: 50, Window: 2 * time.Minute}
		c.ScopeDescriptions = map[string]string{"admin.read": "Look at the back office"}
	})
	b := e.newBrowser()
	try := func(form url.Values, password string) page {
		form.Set("username", testUser)
		form.Set("password", password)
		return b.postForm(authserver.PathLogin, form)
	}

	// Throttle: two failures lock the account for the two-minute window.
	try(e.loginPage(b), "wrong-password")
	try(e.loginPage(b), "wrong-password")
	if p := try(e.loginPage(b), testPassword); p.status != http.StatusTooManyRequests {
		t.Fatalf("third attempt after two failures: %d", p.status)
	}
	e.clock.Advance(2 * time.Minute)

	// The authorization request lives five minutes.
	form := e.loginPage(b)
	e.clock.Advance(5 * time.Minute)
	if p := try(form, testPassword); p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
		t.Fatalf("login after the request's lifetime: %d", p.status)
	}

	// The consent page uses the configured words.
	p := try(e.loginPage(b), testPassword)
	if !strings.Contains(p.body, "Look at the back office") || !strings.Contains(p.body, "Sign you in and know who you are") {
		t.Fatalf("consent page: %s", p.body)
	}
	consent := p.fields(t)
	consent.Set("decision", "allow")
	b.postForm(authserver.PathConsent, consent)

	// Codes live 30 seconds.
	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(b, verifier)
	e.clock.Advance(31 * time.Second)
	if got := e.exchange(code, verifier, appRedirect); got.Error != "invalid_grant" {
		t.Fatalf("code after 31 s: %d %v", got.status, got.raw)
	}

	// ID tokens live ten minutes; refresh tokens two hours.
	tok := e.exchange(e.codeFor(b, verifier), verifier, appRedirect)
	if _, id := jwtParts(t, tok.ID); id["exp"].(float64)-id["iat"].(float64) != 600 {
		t.Fatalf("ID token lifetime: %v", id)
	}
	e.clock.Advance(2*time.Hour + time.Second)
	if got := e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.Refresh}, "client_id": {appID}}, "", ""); got.Error != "invalid_grant" {
		t.Fatalf("refresh token after 2 h: %d %v", got.status, got.raw)
	}

	// The browser session lasted an hour: it has to log in again.
	if p := b.get(e.portalConfig().AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))); !strings.Contains(p.body, `for="password"`) {
		t.Fatalf("after the session's lifetime: %d %v", p.status, p.location)
	}
}
