package bearer

import (
	"context"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
)

func TestRepeatedTokenIsACacheHit(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}})
	token := sign(t, k, iss.claims(), nil)

	first, err := p.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	p.cache.entries.Wait() // ristretto admits entries asynchronously
	hits := counterValue(t, cacheHits)
	again, err := p.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if counterValue(t, cacheHits) != hits+1 {
		t.Error("the repeated token was not answered from the cache")
	}
	if !sameIdentity(first, again) {
		t.Errorf("cached identity %+v differs from %+v", again, first)
	}
}

func TestCacheNeverServesAnExpiredToken(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}, Leeway: ptr(caddy.Duration(0))})

	exp := time.Now().Add(2 * time.Second).Truncate(time.Second)
	claims := iss.claims()
	claims["exp"] = exp.Unix()
	token := sign(t, k, claims, nil)
	if _, err := p.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	p.cache.entries.Wait()
	hits := counterValue(t, cacheHits)
	if _, err := p.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if counterValue(t, cacheHits) != hits+1 {
		t.Fatal("the token was not cached, so this test would prove nothing")
	}

	time.Sleep(time.Until(exp) + 10*time.Millisecond)
	_, err := p.Verify(context.Background(), token)
	if f := refusalOf(t, err); f.Reason != ReasonExpired {
		t.Fatalf("refusal after exp = %+v, want expired", f)
	}
}

func TestCachedTokenRefusedOnceItsKeyLeavesTheJWKS(t *testing.T) {
	retired := newRSAKey(t, "retired", jwt.SigningMethodRS256)
	kept := newECKey(t, "kept")
	iss := startIssuer(t, retired, kept)
	p := provision(t, Provider{Issuers: []string{iss.url}, RefreshInterval: caddy.Duration(time.Second)})

	retiredToken := sign(t, retired, iss.claims(), nil)
	keptToken := sign(t, kept, iss.claims(), nil)
	for _, token := range []string{retiredToken, keptToken} {
		if _, err := p.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	p.cache.entries.Wait()

	iss.publish(kept)
	hits := iss.jwksHits.Load()
	waitFor(t, 5*time.Second, "a background refresh", func() bool { return iss.jwksHits.Load() > hits })
	waitFor(t, time.Second, "the refreshed set", func() bool { return p.issuers[0].keys.snapshot.Load().find("retired") == nil })

	_, err := p.Verify(context.Background(), retiredToken)
	if f := refusalOf(t, err); f.Reason != ReasonUnknownKeyID {
		t.Errorf("refusal of the token signed by the retired key = %+v, want unknown kid", f)
	}
	before := counterValue(t, cacheHits)
	if _, err := p.Verify(context.Background(), keptToken); err != nil {
		t.Errorf("token of the kept key refused: %v", err)
	}
	if counterValue(t, cacheHits) != before+1 {
		t.Error("the refresh dropped the cached decision of a key that stayed")
	}
}

func TestCachedTokenRefusedWhenItsKidGetsAnotherKey(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}, RefreshInterval: caddy.Duration(time.Second)})
	token := sign(t, k, iss.claims(), nil)
	if _, err := p.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	p.cache.entries.Wait()

	// Same kid, different key (and family): the cached decision must go.
	iss.publish(newECKey(t, "k1"))
	old := p.issuers[0].keys.snapshot.Load().find("k1")
	waitFor(t, 5*time.Second, "the refreshed set", func() bool { return p.issuers[0].keys.snapshot.Load().find("k1") != old })
	if _, err := p.Verify(context.Background(), token); err == nil {
		t.Fatal("token accepted after its kid was given another key")
	}
}

// TestCacheIsSharedOnlyBySameSettings: a token cached by a provider that
// does not check aud must not pass, from that cache, one that does.
func TestCacheIsSharedOnlyBySameSettings(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	lenient := provision(t, Provider{Issuers: []string{iss.url}})
	strict := provision(t, Provider{Issuers: []string{iss.url}, Audiences: []string{"payments"}})
	twin := provision(t, Provider{Issuers: []string{iss.url}})
	if lenient.issuers[0].keys != strict.issuers[0].keys {
		t.Error("providers of one issuer got separate key sets")
	}
	if lenient.cache == strict.cache || lenient.cache != twin.cache {
		t.Error("decision caches are not shared exactly by providers with the same settings")
	}

	claims := iss.claims()
	claims["aud"] = "orders"
	token := sign(t, k, claims, nil)
	if _, err := lenient.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	lenient.cache.entries.Wait()
	_, err := strict.Verify(context.Background(), token)
	if f := refusalOf(t, err); f.Reason != ReasonAudience {
		t.Errorf("refusal = %+v, want audience not accepted", f)
	}
}
