package bearer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// testIssuer is a real OpenID issuer over HTTP on loopback: a discovery
// document and a JWKS built from keys generated in the test.
type testIssuer struct {
	t   testing.TB
	url string
	srv *httptest.Server

	mu        sync.Mutex
	published []*testKey

	jwksHits      atomic.Int64
	discoveryHits atomic.Int64
	// discoveredIssuer, when set, is the issuer the discovery document names.
	discoveredIssuer string
}

// testKey is a signing key of the test issuer.
type testKey struct {
	kid    string
	method jwt.SigningMethod
	signer crypto.Signer
	// jwkAlg and use are published in the JWK when set.
	jwkAlg, use string
}

var (
	sharedRSAOnce sync.Once
	sharedRSA     *rsa.PrivateKey
)

// rsaKey returns one RSA-2048 key for the whole test binary: generating one
// takes long enough to matter across dozens of tests.
func rsaKey(t testing.TB) *rsa.PrivateKey {
	sharedRSAOnce.Do(func() {
		var err error
		if sharedRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return sharedRSA
}

func newRSAKey(t testing.TB, kid string, method jwt.SigningMethod) *testKey {
	return &testKey{kid: kid, method: method, signer: rsaKey(t)}
}

func newECKey(t testing.TB, kid string) *testKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, method: jwt.SigningMethodES256, signer: k}
}

func newEdKey(t testing.TB, kid string) *testKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKey{kid: kid, method: jwt.SigningMethodEdDSA, signer: k}
}

// startIssuer serves an issuer on a fresh loopback port.
func startIssuer(t testing.TB, keys ...*testKey) *testIssuer {
	iss := &testIssuer{t: t, published: keys}
	iss.srv = httptest.NewServer(iss.handler())
	iss.url = iss.srv.URL
	t.Cleanup(iss.srv.Close)
	return iss
}

// reserveIssuer returns an issuer whose address is fixed but which is not
// listening yet: connections to it are refused until start.
func reserveIssuer(t testing.TB, keys ...*testKey) *testIssuer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &testIssuer{t: t, url: "http://" + addr, published: keys}
}

func (iss *testIssuer) start() {
	addr := iss.url[len("http://"):]
	var l net.Listener
	var err error
	for range 50 { // the port was free a moment ago; wait if the OS is slow to release it
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		iss.t.Fatalf("listening again on %s: %v", addr, err)
	}
	iss.srv = httptest.NewUnstartedServer(iss.handler())
	iss.srv.Listener.Close()
	iss.srv.Listener = l
	iss.srv.Start()
	iss.t.Cleanup(iss.srv.Close)
}

func (iss *testIssuer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss.discoveryHits.Add(1)
		issuer := iss.url
		if iss.discoveredIssuer != "" {
			issuer = iss.discoveredIssuer
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer":   issuer,
			"jwks_uri": iss.url + "/jwks",
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksHits.Add(1)
		iss.mu.Lock()
		keys := make([]map[string]string, 0, len(iss.published))
		for _, k := range iss.published {
			keys = append(keys, k.jwk())
		}
		iss.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	return mux
}

// publish replaces the keys the JWKS serves.
func (iss *testIssuer) publish(keys ...*testKey) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = keys
}

// jwk writes the public key as RFC 7517 JSON by hand, independently of the
// jwkset library the provider reads it with.
func (k *testKey) jwk() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	m := map[string]string{"kid": k.kid}
	if k.jwkAlg != "" {
		m["alg"] = k.jwkAlg
	}
	if k.use != "" {
		m["use"] = k.use
	}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(pub.N.Bytes())
		m["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = "P-256"
		m["x"] = b64(pub.X.FillBytes(make([]byte, 32)))
		m["y"] = b64(pub.Y.FillBytes(make([]byte, 32)))
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(pub)
	}
	return m
}

// claims are the claims of a valid token from iss, which a test may change.
func (iss *testIssuer) claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":       iss.url,
		"sub":       "user-1",
		"client_id": "client-1",
		"scope":     "admin.read admin.write",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
}

// sign signs claims with k, naming k's kid and the given extra headers.
func sign(t testing.TB, k *testKey, claims jwt.MapClaims, header map[string]any) string {
	tok := jwt.NewWithClaims(k.method, claims)
	tok.Header["kid"] = k.kid
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// provision provisions cfg the way Caddy does and cleans it up with the
// test.
func provision(t testing.TB, cfg Provider) *Provider {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	p := &cfg
	if err := p.Provision(ctx); err != nil {
		cancel()
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		cancel()
	})
	return p
}

// refusalOf returns the Failure err carries, failing the test if it is not one.
func refusalOf(t testing.TB, err error) *authn.Failure {
	t.Helper()
	var f *authn.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v is not an *authn.Failure", err)
	}
	return f
}

// waitFor polls cond every 20ms for up to limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }

// counterValue reads a Prometheus counter.
func counterValue(t testing.TB, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
