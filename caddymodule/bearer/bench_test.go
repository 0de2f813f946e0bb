package bearer

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// The per-request cost of the bearer track, next to the cost of the RS256
// signature check it exists to skip. Run with
//
//	go test -run '^$' -bench . -benchmem ./caddymodule/bearer/

func BenchmarkVerifyCached(b *testing.B) {
	k := newRSAKey(b, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(b, k)
	p := provision(b, Provider{Issuers: []string{iss.url}})
	token := sign(b, k, iss.claims(), nil)
	ctx := context.Background()
	if _, err := p.Verify(ctx, token); err != nil {
		b.Fatal(err)
	}
	p.cache.entries.Wait()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	b.Logf("token: %d bytes", len(token))

	b.Run("verify", func(b *testing.B) {
		assertAllHits(b, func() {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	// What the policy handler pays per request for this track.
	b.Run("credential+verify", func(b *testing.B) {
		assertAllHits(b, func() {
			b.ReportAllocs()
			for b.Loop() {
				credential, _, fail := p.Credential(r)
				if fail != nil {
					b.Fatal(fail)
				}
				if _, err := p.Verify(ctx, credential); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("credential+verify-parallel", func(b *testing.B) {
		assertAllHits(b, func() {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					credential, _, _ := p.Credential(r)
					if _, err := p.Verify(ctx, credential); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// assertAllHits fails the benchmark if run let any lookup miss the cache.
func assertAllHits(b *testing.B, run func()) {
	misses := counterValue(b, cacheMisses)
	run()
	if n := counterValue(b, cacheMisses) - misses; n > 0 {
		b.Fatalf("%v cache misses in a cached benchmark", n)
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	k := newRSAKey(b, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(b, k)
	// A one-entry cache, cycled through 512 distinct tokens, never hits; the
	// lookup, the miss and the store are still paid, as on a real miss.
	p := provision(b, Provider{Issuers: []string{iss.url}, CacheMaxEntries: 1})
	tokens := signMany(b, k, iss, 512)
	ctx := context.Background()

	hits := counterValue(b, cacheHits)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := p.Verify(ctx, tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric((counterValue(b, cacheHits)-hits)/float64(i), "hits/op")
}

// BenchmarkIssuerSelection is what choosing the issuer by the token's iss
// adds to an uncached verification: reading iss from the payload and
// finding it among the trusted issuers (here the last of two).
func BenchmarkIssuerSelection(b *testing.B) {
	k := newRSAKey(b, "k1", jwt.SigningMethodRS256)
	old, current := startIssuer(b), startIssuer(b, k)
	p := provision(b, Provider{Issuers: []string{old.url, current.url}})
	token := sign(b, k, current.claims(), nil)
	b.ReportAllocs()
	for b.Loop() {
		if ti, fail := p.issuerOf(token); fail != nil || ti.url != current.url {
			b.Fatal(fail)
		}
	}
}

// signMany signs n distinct tokens on all cores (RS256 signing is slow).
func signMany(b *testing.B, k *testKey, iss *testIssuer, n int) []string {
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				claims := iss.claims()
				claims["jti"] = fmt.Sprint(i)
				tokens[i] = sign(b, k, claims, nil)
			}
		})
	}
	wg.Wait()
	return tokens
}

// BenchmarkRS256Baseline is the bare cost of what an uncached verification
// must do: the RSA-2048 signature check alone, and the JWT library's parse
// and validation with a fixed key.
func BenchmarkRS256Baseline(b *testing.B) {
	k := newRSAKey(b, "k1", jwt.SigningMethodRS256)
	iss := &testIssuer{url: "https://issuer.example"}
	token := sign(b, k, iss.claims(), nil)
	public := k.signer.Public().(*rsa.PublicKey)

	b.Run("signature", func(b *testing.B) {
		i := strings.LastIndexByte(token, '.')
		signed := token[:i]
		sig, err := jwt.NewParser().DecodeSegment(token[i+1:])
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := jwt.SigningMethodRS256.Verify(signed, sig, public); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwt-parse", func(b *testing.B) {
		parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(iss.url),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		keyfunc := func(*jwt.Token) (any, error) { return public, nil }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parser.Parse(token, keyfunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
