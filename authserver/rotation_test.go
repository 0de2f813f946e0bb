package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/bearer"
)

func (e *env) jwksKIDs() []string {
	e.t.Helper()
	resp, err := http.Get(e.issuer + authserver.PathJWKS)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	slices.Sort(ids)
	return ids
}

func (e *env) ccToken(clientID, secret string) string {
	e.t.Helper()
	got := e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}, clientID, secret)
	if got.status != http.StatusOK {
		e.t.Fatalf("token: %d %v", got.status, got.raw)
	}
	return got.Access
}

func kidOf(t *testing.T, token string) string {
	h, _ := jwtParts(t, token)
	return h["kid"].(string)
}

// gateway is the real bearer track of the gateway, provisioned as Caddy
// would, trusting the test authserver.
func (e *env) gateway() *bearer.Provider {
	e.t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	p := &bearer.Provider{Issuers: []string{e.issuer}, Audiences: []string{e.issuer + "/resources"}, Algorithms: []string{"RS256"}, RequireATJWT: true}
	if err := p.Provision(ctx); err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		cancel()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { p.Cleanup(); cancel() })
	return p
}

// gatewayAccepts waits for the bearer track to hold the issuer's keys and
// verifies token with it.
func gatewayVerify(t *testing.T, p *bearer.Provider, token string) (authn.Identity, error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		id, err := p.Verify(context.Background(), token)
		var f *authn.Failure
		if errors.As(err, &f) && f.Reason == bearer.ReasonKeysUnavailable && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		return id, err
	}
}

// TestGatewayAcceptsIssuedTokens: the gateway's bearer track accepts
// client-credentials and code-flow access tokens and refuses ID tokens.
func TestGatewayAcceptsIssuedTokens(t *testing.T) {
	e := newEnv(t)
	gw := e.gateway()
	id, err := gatewayVerify(t, gw, e.ccToken(serviceID, e.serviceSecret))
	if err != nil {
		t.Fatalf("gateway refused a client-credentials token: %v", err)
	}
	if id.Subject != serviceID || id.ClientID != serviceID || !id.HasScope("admin.read") || id.KeyID == "" {
		t.Fatalf("identity %+v", id)
	}
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tok := e.exchange(e.codeFor(e.newBrowser(), verifier), verifier, appRedirect)
	id, err = gatewayVerify(t, gw, tok.Access)
	if err != nil || id.ClientID != appID || id.Subject == appID || !id.HasScope("admin.read") {
		t.Fatalf("code-flow token: %+v %v", id, err)
	}
	if _, err := gatewayVerify(t, gw, tok.ID); err == nil {
		t.Fatal("gateway accepted an ID token as an access token")
	}
}

// TestKeyRotation moves the injected clock through a rotation: the JWKS
// shows the next key before it signs, both keys while the old one
// retires, and only the new one after the retention. Tokens signed by the
// old key keep passing the gateway until they expire.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, func(c *authserver.Config) {
		c.KeyRotationInterval = 2 * time.Hour
		c.KeyPublishLead = 30 * time.Minute
		c.MaxTokenLifetime = 3 * time.Hour // keys stay published 4h after retiring
	})
	// The server's clock starts 2h30 in the past, so that tokens issued on
	// the way are still (or no longer) valid for the gateway's real clock.
	e.clock.Advance(-150 * time.Minute)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Key maintenance ran at New, at the real time; start over at t0.
	must(e.st.UpdateSigningKeys(ctx, func([]store.SigningKey) ([]store.SigningKey, error) { return nil, nil }))
	must(e.srv.Maintain(ctx))
	long := "long-lived"
	_, longSecret := e.mustClient(authserver.ClientSpec{ID: long, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"admin.read"}, AccessTokenLifetime: 3 * 3600}, e.clock.Now())
	short := "short-lived"
	_, shortSecret := e.mustClient(authserver.ClientSpec{ID: short, GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"admin.read"}, AccessTokenLifetime: 2 * 3600}, e.clock.Now())

	// t0: one key.
	first := e.jwksKIDs()
	if len(first) != 1 {
		t.Fatalf("JWKS at t0: %v", first)
	}
	k1 := first[0]
	oldLong := e.ccToken(long, longSecret)    // expires t0+3h = real+30m
	oldShort := e.ccToken(short, shortSecret) // expires t0+2h = real-30m
	if kidOf(t, oldLong) != k1 {
		t.Fatal("token not signed by the only key")
	}

	// t0+1h30: inside the publish lead, the next key is published and does not sign.
	e.clock.Advance(90 * time.Minute)
	must(e.srv.Maintain(ctx))
	both := e.jwksKIDs()
	if len(both) != 2 || !slices.Contains(both, k1) {
		t.Fatalf("JWKS at t0+1h30: %v", both)
	}
	k2 := both[0]
	if k2 == k1 {
		k2 = both[1]
	}
	if kid := kidOf(t, e.ccToken(long, longSecret)); kid != k1 {
		t.Fatal("next key signed before its activation")
	}
	states := map[string]string{}
	for _, s := range e.srv.Keys().Status() {
		states[s.ID] = string(s.State)
	}
	if states[k1] != "current" || states[k2] != "next" {
		t.Fatalf("states at t0+1h30: %v", states)
	}

	// t0+2h30 (the real now): k2 signs, k1 retires but stays published.
	e.clock.Advance(time.Hour)
	must(e.srv.Maintain(ctx))
	newToken := e.ccToken(long, longSecret)
	if kidOf(t, newToken) != k2 {
		t.Fatal("new key does not sign after its activation")
	}
	if got := e.jwksKIDs(); !slices.Equal(got, both) {
		t.Fatalf("JWKS after the rotation: %v, want both keys", got)
	}

	gw := e.gateway()
	for name, token := range map[string]string{"old key, still valid": oldLong, "new key": newToken} {
		if _, err := gatewayVerify(t, gw, token); err != nil {
			t.Errorf("%s: gateway refused: %v", name, err)
		}
	}
	_, err := gatewayVerify(t, gw, oldShort)
	var f *authn.Failure
	if !errors.As(err, &f) || f.Reason != bearer.ReasonExpired {
		t.Fatalf("expired token from the old key: %v, want refused as expired", err)
	}
	if !e.introspect(oldLong) || e.introspect(oldShort) {
		t.Fatal("introspection disagrees with the tokens' lifetimes")
	}

	// Past the retention (3h + 1h after k1 retired): k1 leaves the JWKS;
	// k2 stays, beside its own successor by now.
	e.clock.Advance(4*time.Hour + time.Minute)
	must(e.srv.Maintain(ctx))
	if got := e.jwksKIDs(); slices.Contains(got, k1) || !slices.Contains(got, k2) {
		t.Fatalf("JWKS after the retention: %v, want %s without %s", got, k2, k1)
	}
}
