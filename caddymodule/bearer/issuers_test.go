package bearer

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// The tests in this file run one bearer block that trusts several real
// issuers over HTTP, as during a migration from one issuer to another.

func TestSeveralIssuersEachAccepted(t *testing.T) {
	oldKey, newKey := newRSAKey(t, "old-1", jwt.SigningMethodRS256), newECKey(t, "new-1")
	old, current := startIssuer(t, oldKey), startIssuer(t, newKey)
	p := provision(t, Provider{Issuers: []string{old.url, current.url}})

	for _, tt := range []struct {
		iss *testIssuer
		key *testKey
	}{{old, oldKey}, {current, newKey}} {
		claims := tt.iss.claims()
		claims["client_id"] = "client of " + tt.key.kid
		token := sign(t, tt.key, claims, nil)
		id, err := p.Verify(context.Background(), token)
		if err != nil {
			t.Fatalf("token of %s refused: %v", tt.iss.url, err)
		}
		if id.ClientID != "client of "+tt.key.kid || id.KeyID != tt.key.kid {
			t.Errorf("identity = %+v", id)
		}
		// The decision is cached, and the cached one holds.
		p.cache.entries.Wait()
		hits := counterValue(t, cacheHits)
		if _, err := p.Verify(context.Background(), token); err != nil {
			t.Fatalf("cached token of %s refused: %v", tt.iss.url, err)
		}
		if counterValue(t, cacheHits) != hits+1 {
			t.Errorf("the repeated token of %s was not a cache hit", tt.iss.url)
		}
		// Each issuer's fetches are counted under its own label.
		if n := counterValue(t, jwksRefreshes.WithLabelValues(tt.iss.url, "success")); n < 1 {
			t.Errorf("gatehouse_bearer_jwks_refreshes_total{issuer=%q,outcome=\"success\"} = %v", tt.iss.url, n)
		}
		if n := tt.iss.jwksHits.Load(); n != 1 {
			t.Errorf("JWKS of %s fetched %d times, want 1", tt.iss.url, n)
		}
	}
}

func TestKeysOfOneIssuerNeverVerifyTokensOfAnother(t *testing.T) {
	// Both issuers name a key "shared" (a kid is only unique within one
	// JWKS); each also has a key the other does not.
	aShared, bShared := newECKey(t, "shared"), newECKey(t, "shared")
	aOnly := newEdKey(t, "a-only")
	a, b := startIssuer(t, aShared, aOnly), startIssuer(t, bShared)
	p := provision(t, Provider{
		Issuers: []string{a.url, b.url},
		// No refresh in this test may pick up anything new.
		UnknownKIDRefreshInterval: caddy.Duration(time.Hour),
	})

	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"A's key, claiming B, kid B does not have", sign(t, aOnly, b.claims(), nil), ReasonUnknownKeyID},
		{"A's key, claiming B, kid B has too", sign(t, aShared, b.claims(), nil), ReasonSignature},
		{"B's key, claiming A", sign(t, bShared, a.claims(), nil), ReasonSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(context.Background(), tt.token)
			if f := refusalOf(t, err); f.Reason != tt.reason || f.Status != http.StatusUnauthorized {
				t.Errorf("refusal = %+v, want %s", f, tt.reason)
			}
		})
	}
	// The same keys verify the tokens of their own issuer.
	for _, token := range []string{sign(t, aShared, a.claims(), nil), sign(t, aOnly, a.claims(), nil), sign(t, bShared, b.claims(), nil)} {
		if _, err := p.Verify(context.Background(), token); err != nil {
			t.Errorf("token of its own issuer refused: %v", err)
		}
	}
}

func TestUntrustedIssuerRefusedWithoutAnyFetch(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	trusted := startIssuer(t, k)
	// A real issuer, not trusted by the block: its tokens are well formed
	// and correctly signed, with its own keys.
	strangerKey := newECKey(t, "stranger")
	stranger := startIssuer(t, strangerKey)
	p := provision(t, Provider{
		Issuers:                   []string{trusted.url},
		UnknownKIDRefreshInterval: caddy.Duration(time.Second),
	})
	fetched := trusted.jwksHits.Load()

	// Unsigned tokens with a given payload: whatever else they hold, they
	// are refused before any key is looked for.
	b64 := base64.RawURLEncoding.EncodeToString
	header := b64([]byte(`{"alg":"RS256","kid":"made-up"}`))
	payload := func(json string) string {
		return header + "." + b64([]byte(json)) + ".c2ln"
	}
	// The trusted issuer, in base64url with the padding JWS leaves out.
	padded := `{"iss":"` + trusted.url + `"}`
	for len(padded)%3 != 1 {
		padded += " "
	}
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"the stranger's own token", sign(t, strangerKey, stranger.claims(), nil), ReasonIssuer},
		{"the trusted key, the stranger's iss, a made-up kid", sign(t, k, stranger.claims(), map[string]any{"kid": "made-up"}), ReasonIssuer},
		{"the trusted issuer's URL with a trailing slash", sign(t, k, jwt.MapClaims{"iss": trusted.url + "/", "exp": time.Now().Add(time.Hour).Unix()}, map[string]any{"kid": "made-up"}), ReasonIssuer},
		{"the trusted issuer's URL in another case", sign(t, k, jwt.MapClaims{"iss": strings.ToUpper(trusted.url), "exp": time.Now().Add(time.Hour).Unix()}, map[string]any{"kid": "made-up"}), ReasonIssuer},
		{"no iss", payload(`{"exp":4102444800}`), ReasonIssuer},
		{"iss null", payload(`{"iss":null}`), ReasonIssuer},
		{"payload null", payload(`null`), ReasonIssuer},
		{"iss not a string", payload(`{"iss":42}`), ReasonMalformed},
		{"payload not JSON", payload(`iss`), ReasonMalformed},
		{"payload not base64url", header + ".not*base64.c2ln", ReasonMalformed},
		{"padded payload", header + "." + base64.URLEncoding.EncodeToString([]byte(padded)) + ".c2ln", ReasonMalformed},
		{"two segments", header + "." + b64([]byte(`{"iss":"`+trusted.url+`"}`)), ReasonMalformed},
		{"four segments", payload(`{"iss":"`+trusted.url+`"}`) + ".c2ln", ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Verify(context.Background(), tt.token)
			f := refusalOf(t, err)
			if f.Reason != tt.reason || f.Status != http.StatusUnauthorized || f.Code != authn.CodeInvalidToken {
				t.Errorf("refusal = %+v, want %s, 401 invalid_token", f, tt.reason)
			}
			if tt.reason == ReasonIssuer && f.Description != "token issuer not accepted" {
				t.Errorf("description = %q", f.Description)
			}
		})
	}
	if n := trusted.jwksHits.Load() - fetched; n != 0 {
		t.Errorf("the trusted issuer's JWKS was fetched %d times for tokens it did not issue", n)
	}
	if n := stranger.discoveryHits.Load() + stranger.jwksHits.Load(); n != 0 {
		t.Errorf("the untrusted issuer was contacted %d times", n)
	}
}

// TestUntrustedIssuerRefusedWhileTrustedIssuerIsDown: the answer to a
// token of an issuer not trusted does not depend on the trusted ones'
// keys; it is a 401, not a 503 that invites the client to retry.
func TestUntrustedIssuerRefusedWhileTrustedIssuerIsDown(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	down := reserveIssuer(t, k)
	stranger := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{down.url}})
	_, err := p.Verify(context.Background(), sign(t, k, stranger.claims(), nil))
	if f := refusalOf(t, err); f.Reason != ReasonIssuer || f.Status != http.StatusUnauthorized {
		t.Errorf("refusal = %+v, want issuer not accepted, 401", f)
	}
	_, err = p.Verify(context.Background(), sign(t, k, down.claims(), nil))
	if f := refusalOf(t, err); f.Reason != ReasonKeysUnavailable || f.Status != http.StatusServiceUnavailable {
		t.Errorf("refusal of the trusted issuer's token = %+v, want keys unavailable, 503", f)
	}
}

func TestOneIssuerDownAtStartOthersWork(t *testing.T) {
	downKey, upKey := newECKey(t, "down-1"), newEdKey(t, "up-1")
	down, up := reserveIssuer(t, downKey), startIssuer(t, upKey)

	began := time.Now()
	p := provision(t, Provider{Issuers: []string{down.url, up.url}})
	if took := time.Since(began); took > provisionWait+time.Second {
		t.Errorf("provision took %s with one issuer down", took)
	}
	upToken, downToken := sign(t, upKey, up.claims(), nil), sign(t, downKey, down.claims(), nil)
	if _, err := p.Verify(context.Background(), upToken); err != nil {
		t.Fatalf("token of the issuer that is up refused: %v", err)
	}
	_, err := p.Verify(context.Background(), downToken)
	if f := refusalOf(t, err); f.Status != http.StatusServiceUnavailable || f.Reason != ReasonKeysUnavailable {
		t.Fatalf("refusal of the token of the issuer that is down = %+v, want 503 keys unavailable", f)
	}

	down.start()
	waitFor(t, 10*time.Second, "the token of the issuer that came up to be accepted", func() bool {
		_, err := p.Verify(context.Background(), downToken)
		return err == nil
	})
	if _, err := p.Verify(context.Background(), upToken); err != nil {
		t.Errorf("token of the other issuer refused: %v", err)
	}
}

// TestUnresponsiveIssuersShareOneStartupWait: issuers that accept
// connections but never answer cost startup one wait in all, not one each.
func TestUnresponsiveIssuersShareOneStartupWait(t *testing.T) {
	release := make(chan struct{})
	var urls []string
	for range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	t.Cleanup(func() { close(release) }) // before the servers close

	began := time.Now()
	p := provision(t, Provider{Issuers: urls})
	took := time.Since(began)
	if took < provisionWait || took > provisionWait+time.Second {
		t.Errorf("provision took %s with 3 unresponsive issuers, want about %s", took, provisionWait)
	}
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	claims := jwt.MapClaims{"iss": urls[1], "exp": time.Now().Add(time.Hour).Unix()}
	_, err := p.Verify(context.Background(), sign(t, k, claims, nil))
	if f := refusalOf(t, err); f.Reason != ReasonKeysUnavailable {
		t.Errorf("refusal = %+v, want keys unavailable", f)
	}
}

func TestUnknownKIDRefreshesAreLimitedPerIssuer(t *testing.T) {
	aKey, bKey := newRSAKey(t, "a-1", jwt.SigningMethodRS256), newECKey(t, "b-1")
	a, b := startIssuer(t, aKey), startIssuer(t, bKey)
	p := provision(t, Provider{
		Issuers:                   []string{a.url, b.url},
		RefreshInterval:           caddy.Duration(time.Hour),
		UnknownKIDRefreshInterval: caddy.Duration(time.Hour),
	})

	// Made-up kids claiming A use up A's one refresh of the interval.
	for i := range 50 {
		_, err := p.Verify(context.Background(), sign(t, aKey, a.claims(), map[string]any{"kid": fmt.Sprint("made-up-", i)}))
		if f := refusalOf(t, err); f.Reason != ReasonUnknownKeyID {
			t.Fatalf("refusal = %+v, want unknown kid", f)
		}
	}
	if got := a.jwksHits.Load(); got != 2 {
		t.Errorf("A's JWKS fetched %d times, want 2 (start + one refresh)", got)
	}

	// B rotates: its new key is fetched at once, A's flood notwithstanding.
	rotated := newEdKey(t, "b-2")
	b.publish(bKey, rotated)
	if _, err := p.Verify(context.Background(), sign(t, rotated, b.claims(), nil)); err != nil {
		t.Fatalf("token of B's new key refused: %v", err)
	}
	if got := b.jwksHits.Load(); got != 2 {
		t.Errorf("B's JWKS fetched %d times, want 2", got)
	}
	if got := a.jwksHits.Load(); got != 2 {
		t.Errorf("A's JWKS fetched %d times after B's refresh, want still 2", got)
	}
}

func TestCachedDecisionIsTiedToItsIssuersKey(t *testing.T) {
	aKey, bKey := newECKey(t, "k1"), newECKey(t, "k1") // the same kid in both
	a, b := startIssuer(t, aKey), startIssuer(t, bKey)
	p := provision(t, Provider{Issuers: []string{a.url, b.url}, RefreshInterval: caddy.Duration(time.Second)})
	aToken, bToken := sign(t, aKey, a.claims(), nil), sign(t, bKey, b.claims(), nil)
	for _, token := range []string{aToken, bToken} {
		if _, err := p.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	p.cache.entries.Wait()

	// A retires its key; B keeps a key under the same kid.
	a.publish()
	hits := a.jwksHits.Load()
	waitFor(t, 5*time.Second, "A's refreshed set", func() bool {
		return a.jwksHits.Load() > hits && p.issuers[0].keys.snapshot.Load().find("k1") == nil
	})

	_, err := p.Verify(context.Background(), aToken)
	if f := refusalOf(t, err); f.Reason != ReasonUnknownKeyID {
		t.Errorf("refusal of A's cached token after A retired its key = %+v, want unknown kid", f)
	}
	before := counterValue(t, cacheHits)
	if _, err := p.Verify(context.Background(), bToken); err != nil {
		t.Errorf("B's token refused: %v", err)
	}
	if counterValue(t, cacheHits) != before+1 {
		t.Error("A's refresh dropped the cached decision of B's token")
	}
}

// TestCacheIsSharedOnlyByTheSameIssuers: a token cached by a block that
// trusts its issuer must not pass, from that cache, a block that does not.
func TestCacheIsSharedOnlyByTheSameIssuers(t *testing.T) {
	aKey, bKey := newECKey(t, "a-1"), newECKey(t, "b-1")
	a, b := startIssuer(t, aKey), startIssuer(t, bKey)
	both := provision(t, Provider{Issuers: []string{a.url, b.url}})
	bothReversed := provision(t, Provider{Issuers: []string{b.url, a.url}})
	onlyA := provision(t, Provider{Issuers: []string{a.url}})

	if both.cache != bothReversed.cache {
		t.Error("blocks trusting the same issuers in another order got separate caches")
	}
	if both.cache == onlyA.cache {
		t.Error("blocks trusting different issuers share a cache")
	}
	if both.issuers[0].keys != onlyA.issuers[0].keys || both.issuers[0].keys != bothReversed.issuers[1].keys {
		t.Error("blocks trusting the same issuer got separate key sets")
	}
	if got := a.jwksHits.Load(); got != 1 {
		t.Errorf("A's JWKS fetched %d times by three blocks, want 1", got)
	}

	token := sign(t, bKey, b.claims(), nil)
	if _, err := both.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	both.cache.entries.Wait()
	_, err := onlyA.Verify(context.Background(), token)
	if f := refusalOf(t, err); f.Reason != ReasonIssuer {
		t.Errorf("refusal = %+v, want issuer not accepted", f)
	}
}
