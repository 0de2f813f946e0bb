package bearer

import (
	"context"
	"fmt"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

func TestIssuerDownAtStartThenUp(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := reserveIssuer(t, k)

	began := time.Now()
	p := provision(t, Provider{Issuers: []string{iss.url}})
	if took := time.Since(began); took > provisionWait+time.Second {
		t.Errorf("provision took %s with the issuer down", took)
	}
	token := sign(t, k, iss.claims(), nil)
	_, err := p.Verify(context.Background(), token)
	f := refusalOf(t, err)
	if f.Status != http.StatusServiceUnavailable || f.Code != authn.CodeTemporarilyUnavailable || f.Reason != ReasonKeysUnavailable {
		t.Fatalf("refusal while the issuer is down = %+v, want 503 temporarily_unavailable", f)
	}

	iss.start()
	// Retries back off from 1s (with jitter), so keys arrive within a few seconds.
	waitFor(t, 10*time.Second, "the token to be accepted once the issuer is up", func() bool {
		_, err := p.Verify(context.Background(), token)
		return err == nil
	})
}

func TestIssuerDiscoveryMustNameTheIssuer(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	iss.discoveredIssuer = "https://impostor.example"
	p := provision(t, Provider{Issuers: []string{iss.url}})

	_, err := p.Verify(context.Background(), sign(t, k, iss.claims(), nil))
	if f := refusalOf(t, err); f.Reason != ReasonKeysUnavailable {
		t.Fatalf("refusal = %+v, want keys unavailable", f)
	}
	if n := iss.jwksHits.Load(); n != 0 {
		t.Errorf("JWKS fetched %d times from an issuer whose discovery names another", n)
	}
}

func TestIssuerOutageKeepsHeldKeys(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}, RefreshInterval: caddy.Duration(time.Second)})
	if _, err := p.Verify(context.Background(), sign(t, k, iss.claims(), nil)); err != nil {
		t.Fatalf("refused while the issuer is up: %v", err)
	}
	failures := jwksRefreshes.WithLabelValues(iss.url, "failure")
	before := counterValue(t, failures)

	iss.srv.Close()
	// A background refresh fails, and so does one asked for by an unknown kid.
	waitFor(t, 5*time.Second, "a failed background refresh", func() bool {
		return counterValue(t, failures) > before
	})
	_, err := p.Verify(context.Background(), sign(t, k, iss.claims(), map[string]any{"kid": "new"}))
	if f := refusalOf(t, err); f.Reason != ReasonUnknownKeyID {
		t.Errorf("unknown kid during the outage: %+v", f)
	}

	claims := iss.claims()
	claims["sub"] = "a token never seen before"
	if _, err := p.Verify(context.Background(), sign(t, k, claims, nil)); err != nil {
		t.Fatalf("valid token refused during the issuer outage: %v", err)
	}
}

func TestUnknownKIDFloodRefreshesOncePerInterval(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{
		Issuers:                   []string{iss.url},
		RefreshInterval:           caddy.Duration(time.Hour),
		UnknownKIDRefreshInterval: caddy.Duration(2 * time.Second),
	})
	if got := iss.jwksHits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", got)
	}

	// 8 clients send 400 tokens naming made-up kids, as fast as they can.
	tokens := make([]string, 400)
	for i := range tokens {
		tokens[i] = sign(t, k, iss.claims(), map[string]any{"kid": fmt.Sprintf("made-up-%d", i)})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	reasons := map[string]int{}
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(tokens); i += 8 {
				_, err := p.Verify(context.Background(), tokens[i])
				mu.Lock()
				reasons[refusalOf(t, err).Reason]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if reasons[ReasonUnknownKeyID] != len(tokens) {
		t.Errorf("refusals = %v, want %d unknown_kid", reasons, len(tokens))
	}
	if got := iss.jwksHits.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times after the flood, want 2 (start + one refresh)", got)
	}

	// The issuer rotates to a new key. Within the interval, its tokens are
	// refused like the flood's; after it, the first one triggers a refresh.
	rotated := newECKey(t, "rotated")
	iss.publish(k, rotated)
	token := sign(t, rotated, iss.claims(), nil)
	if _, err := p.Verify(context.Background(), token); err == nil {
		t.Fatal("token of a new key accepted within the interval, so the limiter let a refresh through")
	}
	time.Sleep(2 * time.Second)
	if _, err := p.Verify(context.Background(), token); err != nil {
		t.Fatalf("token of the new key refused after the interval: %v", err)
	}
	if got := iss.jwksHits.Load(); got != 3 {
		t.Errorf("JWKS fetched %d times, want 3", got)
	}
}

func TestReloadSharesKeysAndLeavesNoGoroutines(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	cfg := Provider{Issuers: []string{iss.url}, RefreshInterval: caddy.Duration(time.Second)}

	provisionOnce := func() (*Provider, func()) {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		p := cfg
		if err := p.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		return &p, func() {
			if err := p.Cleanup(); err != nil {
				t.Error(err)
			}
			cancel()
		}
	}
	token := sign(t, k, iss.claims(), nil)

	old, cleanupOld := provisionOnce()
	if _, err := old.Verify(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if len(trackGoroutines()) == 0 {
		t.Fatal("no goroutine of the track found while it runs: the leak check below would prove nothing")
	}
	// A reload provisions the new config while the old one still runs.
	reloaded, cleanupReloaded := provisionOnce()
	if reloaded.issuers[0].keys != old.issuers[0].keys || reloaded.cache != old.cache {
		t.Error("the reloaded config got its own key set or cache")
	}
	if got := iss.discoveryHits.Load(); got != 1 {
		t.Errorf("discovery ran %d times across the reload, want 1", got)
	}
	cleanupOld()
	if _, err := reloaded.Verify(context.Background(), token); err != nil {
		t.Fatalf("refused after the old config was cleaned up: %v", err)
	}
	cleanupReloaded()

	waitFor(t, 5*time.Second, "the track's goroutines to end", func() bool {
		return len(trackGoroutines()) == 0
	})
	// No refresh runs any more.
	hits := iss.jwksHits.Load()
	time.Sleep(1500 * time.Millisecond)
	if got := iss.jwksHits.Load(); got != hits {
		t.Errorf("JWKS fetched %d times after the last release", got-hits)
	}
}

// trackGoroutines returns the stacks of goroutines started for the track:
// the fetch loop, jwkset's refresh, ristretto's workers, and keep-alive
// connections to the issuer.
func trackGoroutines() []string {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	var found []string
	for _, stack := range strings.Split(b.String(), "\n\n") {
		for _, marker := range []string{"caddymodule/bearer.(*issuerKeys)", "MicahParks/jwkset", "ristretto", "net/http.(*persistConn)"} {
			if strings.Contains(stack, marker) {
				found = append(found, stack)
				break
			}
		}
	}
	return found
}
