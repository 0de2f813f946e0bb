package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-gw/gatehouse/caddymodule/internal/testissuer"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/caddymodule/policy"
)

// BenchmarkDecision measures the whole per-request decision of the
// gatehouse handler (credential, verification, scopes, identity headers,
// placeholders) for each track, cached and uncached. The next handler does
// nothing, so the figures are the gateway's own cost per request.
func BenchmarkDecision(b *testing.B) {
	// What preparing and passing on a request costs without the gatehouse
	// handler: subtract it from the figures below for the decision alone.
	b.Run("baseline", func(b *testing.B) {
		runDecisions(b, nil, "X-Api-Key", []string{"unused"})
	})
	b.Run("api_key/cached", func(b *testing.B) {
		h, store := apiKeyHandler(b, 0)
		_, key, _, err := store.Create(context.Background(), keystore.NewClient{Name: "till", Scopes: []string{"pos"}})
		if err != nil {
			b.Fatal(err)
		}
		runDecisions(b, h, "X-Api-Key", []string{key})
		reportHits(b, store)
	})
	b.Run("api_key/store", func(b *testing.B) {
		// A one-entry cache cycled through 500 keys: each decision reads
		// the bbolt file.
		h, store := apiKeyHandler(b, 1)
		keys := make([]string, 500)
		for i := range keys {
			_, k, _, err := store.Create(context.Background(), keystore.NewClient{Name: fmt.Sprint("till ", i), Scopes: []string{"pos"}})
			if err != nil {
				b.Fatal(err)
			}
			keys[i] = k
		}
		runDecisions(b, h, "X-Api-Key", keys)
		reportHits(b, store)
	})
	iss := testissuer.New(b)
	b.Run("jwt/cached", func(b *testing.B) {
		h := bearerHandler(b, iss, 0)
		runDecisions(b, h, "Authorization", []string{"Bearer " + iss.Sign(b, iss.Claims("etl", "orders.read"))})
	})
	b.Run("jwt/uncached", func(b *testing.B) {
		h := bearerHandler(b, iss, 1)
		tokens := make([]string, 300)
		for i := range tokens {
			tokens[i] = "Bearer " + iss.Sign(b, iss.Claims(fmt.Sprint("etl-", i), "orders.read"))
		}
		runDecisions(b, h, "Authorization", tokens)
	})
}

func runDecisions(b *testing.B, h *policy.Handler, header string, credentials []string) {
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })
	w := httptest.NewRecorder()
	base := httptest.NewRequest("GET", "/orders", nil)
	serve := func(credential string) error {
		r := newRequest(base)
		r.Header.Set(header, credential)
		if h == nil {
			return next.ServeHTTP(w, r)
		}
		return h.ServeHTTP(w, r, next)
	}
	// Warm the cache (where there is one) with every credential.
	for _, c := range credentials {
		if err := serve(c); err != nil || w.Code != 200 {
			b.Fatalf("warm-up refused: %v %d %s", err, w.Code, w.Body)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if err := serve(credentials[i%len(credentials)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if w.Code != 200 {
		b.Fatalf("refused: %d %s", w.Code, w.Body)
	}
}

// newRequest prepares a request as Caddy's server does for each one: its
// own replacer and variable table, headers of its own.
func newRequest(base *http.Request) *http.Request {
	ctx := context.WithValue(base.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer())
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, map[string]any{})
	r := base.WithContext(ctx)
	r.Header = make(http.Header, 4)
	return r
}

func reportHits(b *testing.B, store *keystore.CachedStore) {
	s := store.Stats()
	b.ReportMetric(float64(s.Hits)/float64(s.Hits+s.Misses), "hit-ratio")
}

func provisionHandler(b *testing.B, tracks caddy.ModuleMap, scopes ...string) *policy.Handler {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	b.Cleanup(cancel)
	h := &policy.Handler{TracksRaw: tracks, Scopes: scopes}
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		b.Fatal(err)
	}
	return h
}

func apiKeyHandler(b *testing.B, cacheEntries int) (*policy.Handler, *keystore.CachedStore) {
	path := filepath.Join(b.TempDir(), "keys.db")
	store, err := keystore.Acquire(path, keystore.PoolOptions{CacheMaxEntries: cacheEntries})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = keystore.Release(path) })
	h := provisionHandler(b, caddy.ModuleMap{"gatehouse_api_key": mustJSON(b, map[string]any{"store": path})}, "pos")
	return h, store
}

func bearerHandler(b *testing.B, iss *testissuer.Issuer, cacheEntries int) *policy.Handler {
	cfg := map[string]any{"issuers": []string{iss.URL}, "audiences": []string{"gatehouse"}}
	if cacheEntries > 0 {
		cfg["cache_max_entries"] = cacheEntries
	}
	return provisionHandler(b, caddy.ModuleMap{"gatehouse_bearer": mustJSON(b, cfg)}, "orders.read")
}

func mustJSON(b *testing.B, v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
