package bearer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

func TestAcceptsEachDefaultAlgorithm(t *testing.T) {
	keys := []*testKey{
		newRSAKey(t, "rs", jwt.SigningMethodRS256),
		newRSAKey(t, "ps", jwt.SigningMethodPS256),
		newECKey(t, "es"),
		newEdKey(t, "ed"),
	}
	iss := startIssuer(t, keys...)
	p := provision(t, Provider{Issuers: []string{iss.url}})

	for _, k := range keys {
		t.Run(k.method.Alg(), func(t *testing.T) {
			claims := iss.claims()
			exp := time.Now().Add(time.Hour).Truncate(time.Second)
			claims["exp"] = exp.Unix()
			id, err := p.Verify(context.Background(), sign(t, k, claims, nil))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			want := authn.Identity{
				Track:     authn.TrackBearer,
				Subject:   "user-1",
				ClientID:  "client-1",
				Scopes:    []string{"admin.read", "admin.write"},
				KeyID:     k.kid,
				ExpiresAt: exp,
			}
			if !sameIdentity(id, want) {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

func sameIdentity(a, b authn.Identity) bool {
	return a.Track == b.Track && a.Subject == b.Subject && a.ClientID == b.ClientID &&
		slices.Equal(a.Scopes, b.Scopes) && a.KeyID == b.KeyID && a.ExpiresAt.Equal(b.ExpiresAt)
}

func TestScopesAndClientClaims(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}})

	tests := []struct {
		name        string
		change      jwt.MapClaims
		drop        []string
		wantScopes  []string
		wantClient  string
		wantSubject string
	}{
		{name: "scope string", change: jwt.MapClaims{"scope": "a  b c"}, wantScopes: []string{"a", "b", "c"}},
		{name: "scope array, as IdentityServer emits", change: jwt.MapClaims{"scope": []string{"a", "b"}}, wantScopes: []string{"a", "b"}},
		{name: "scp string", drop: []string{"scope"}, change: jwt.MapClaims{"scp": "a b"}, wantScopes: []string{"a", "b"}},
		{name: "scp array", drop: []string{"scope"}, change: jwt.MapClaims{"scp": []string{"a", "b"}}, wantScopes: []string{"a", "b"}},
		{name: "scope and scp merged without repeats", change: jwt.MapClaims{"scope": "a b", "scp": []string{"b", "c", "a"}}, wantScopes: []string{"a", "b", "c"}},
		{name: "no scope at all", drop: []string{"scope"}, wantScopes: nil},
		{name: "client from azp", drop: []string{"client_id"}, change: jwt.MapClaims{"azp": "portal"}, wantClient: "portal"},
		{name: "client from sub", drop: []string{"client_id"}, wantClient: "user-1"},
		{name: "client-credentials token without sub", drop: []string{"sub"}, wantClient: "client-1", wantSubject: "client-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := iss.claims()
			for _, name := range tt.drop {
				delete(claims, name)
			}
			for name, v := range tt.change {
				claims[name] = v
			}
			id, err := p.Verify(context.Background(), sign(t, k, claims, nil))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.wantScopes != nil || slices.Contains(tt.drop, "scope") {
				if !slices.Equal(id.Scopes, tt.wantScopes) {
					t.Errorf("scopes = %q, want %q", id.Scopes, tt.wantScopes)
				}
			}
			if tt.wantClient != "" && id.ClientID != tt.wantClient {
				t.Errorf("client = %q, want %q", id.ClientID, tt.wantClient)
			}
			if tt.wantSubject != "" && id.Subject != tt.wantSubject {
				t.Errorf("subject = %q, want %q", id.Subject, tt.wantSubject)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	rsKey := newRSAKey(t, "rs", jwt.SigningMethodRS256)
	esKey := newECKey(t, "es")
	pinned := newRSAKey(t, "pinned", jwt.SigningMethodPS256)
	pinned.jwkAlg = "RS256" // the JWK says RS256; a PS256 token must not use it
	encKey := newRSAKey(t, "enc", jwt.SigningMethodRS256)
	encKey.use = "enc"
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakKey := &testKey{kid: "weak", method: jwt.SigningMethodRS256, signer: weak}
	iss := startIssuer(t, rsKey, esKey, pinned, encKey, weakKey)
	p := provision(t, Provider{Issuers: []string{iss.url}, Audiences: []string{"gateway", "api"}})
	// The same checks hold when the block trusts a second issuer, one that
	// publishes another key under the kid "rs".
	second := startIssuer(t, newECKey(t, "rs"))
	twoIssuers := provision(t, Provider{Issuers: []string{second.url, iss.url}, Audiences: []string{"gateway", "api"}})
	atJWT := provision(t, Provider{Issuers: []string{iss.url}, RequireATJWT: true})
	ecOnly := provision(t, Provider{Issuers: []string{iss.url}, Algorithms: []string{"ES256"}})

	valid := func() jwt.MapClaims {
		c := iss.claims()
		c["aud"] = []string{"other", "api"}
		return c
	}
	with := func(name string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
		return c
	}
	now := time.Now()
	publicPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(rsKey.signer.Public())
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}

	tests := []struct {
		name     string
		provider *Provider
		token    func() string
		reason   string
		desc     string
		status   int
	}{
		{name: "garbage", token: func() string { return "garbage" }, reason: ReasonMalformed, desc: "token malformed"},
		{name: "three segments of garbage", token: func() string { return "a.b.c" }, reason: ReasonMalformed, desc: "token malformed"},
		{name: "alg none", token: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, valid())
			tok.Header["kid"] = "rs"
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, reason: ReasonAlgorithm, desc: "token algorithm not accepted"},
		{name: "HS256 signed with the RSA public key", token: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid())
			tok.Header["kid"] = "rs"
			s, err := tok.SignedString(publicPEM())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, reason: ReasonAlgorithm, desc: "token algorithm not accepted"},
		{name: "alg outside a configured allow-list", provider: ecOnly, token: func() string {
			return sign(t, rsKey, valid(), nil)
		}, reason: ReasonAlgorithm, desc: "token algorithm not accepted"},
		{name: "ES256 token naming an RSA key", token: func() string {
			return sign(t, esKey, valid(), map[string]any{"kid": "rs"})
		}, reason: ReasonAlgorithmKeyMismatch, desc: "token algorithm not accepted"},
		{name: "PS256 token with a key whose JWK says RS256", token: func() string {
			return sign(t, pinned, valid(), nil)
		}, reason: ReasonAlgorithmKeyMismatch, desc: "token algorithm not accepted"},
		{name: "RSA key shorter than 2048 bits", token: func() string {
			return sign(t, weakKey, valid(), nil)
		}, reason: ReasonAlgorithmKeyMismatch, desc: "token algorithm not accepted"},
		{name: "expired", token: func() string {
			return sign(t, rsKey, with("exp", now.Add(-2*time.Minute).Unix()), nil)
		}, reason: ReasonExpired, desc: "token expired"},
		{name: "nbf in the future", token: func() string {
			return sign(t, rsKey, with("nbf", now.Add(5*time.Minute).Unix()), nil)
		}, reason: ReasonNotYetValid, desc: "token not yet valid"},
		{name: "iat in the future", token: func() string {
			return sign(t, rsKey, with("iat", now.Add(5*time.Minute).Unix()), nil)
		}, reason: ReasonIssuedInFuture, desc: "token not yet valid"},
		{name: "wrong iss", token: func() string {
			return sign(t, rsKey, with("iss", iss.url+"/other"), nil)
		}, reason: ReasonIssuer, desc: "token issuer not accepted"},
		{name: "no iss", token: func() string {
			return sign(t, rsKey, with("iss", nil), nil)
		}, reason: ReasonIssuer, desc: "token issuer not accepted"},
		{name: "wrong aud", token: func() string {
			return sign(t, rsKey, with("aud", "elsewhere"), nil)
		}, reason: ReasonAudience, desc: "token audience not accepted"},
		{name: "no aud while audiences are configured", token: func() string {
			return sign(t, rsKey, with("aud", nil), nil)
		}, reason: ReasonAudience, desc: "token audience not accepted"},
		{name: "missing exp", token: func() string {
			return sign(t, rsKey, with("exp", nil), nil)
		}, reason: ReasonNoExpiry, desc: "token has no expiry"},
		{name: "unknown kid", token: func() string {
			return sign(t, rsKey, valid(), map[string]any{"kid": "made-up"})
		}, reason: ReasonUnknownKeyID, desc: "signing key unknown"},
		{name: "no kid", token: func() string {
			return sign(t, rsKey, valid(), map[string]any{"kid": nil})
		}, reason: ReasonNoKeyID, desc: "signing key unknown"},
		{name: "key published for encryption", token: func() string {
			return sign(t, encKey, valid(), nil)
		}, reason: ReasonUnknownKeyID, desc: "signing key unknown"},
		{name: "tampered signature", token: func() string {
			return tamper(sign(t, rsKey, valid(), nil))
		}, reason: ReasonSignature, desc: "token signature invalid"},
		{name: "tampered claims", token: func() string {
			good := strings.Split(sign(t, rsKey, valid(), nil), ".")
			forged := strings.Split(sign(t, rsKey, with("scope", "admin.everything"), nil), ".")
			return good[0] + "." + forged[1] + "." + good[2]
		}, reason: ReasonSignature, desc: "token signature invalid"},
		{name: "100 KiB token", token: func() string {
			return sign(t, rsKey, with("padding", strings.Repeat("x", 100<<10)), nil)
		}, reason: ReasonTooLarge, desc: "token too large"},
		{name: "scope of the wrong type", token: func() string {
			return sign(t, rsKey, with("scope", 42), nil)
		}, reason: ReasonMalformed, desc: "token malformed"},
		{name: "critical header extension", token: func() string {
			return sign(t, rsKey, valid(), map[string]any{"crit": []string{"exp"}, "exp": 1})
		}, reason: ReasonCritHeader, desc: "token malformed"},
		{name: "typ JWT where at+jwt is required", provider: atJWT, token: func() string {
			return sign(t, rsKey, valid(), map[string]any{"typ": "JWT"})
		}, reason: ReasonTyp, desc: "typ must be at+jwt"},
		{name: "no typ where at+jwt is required", provider: atJWT, token: func() string {
			return sign(t, rsKey, valid(), map[string]any{"typ": nil})
		}, reason: ReasonTyp, desc: "typ must be at+jwt"},
	}
	for _, block := range []struct {
		name     string
		provider *Provider
	}{{"one issuer", p}, {"two issuers", twoIssuers}} {
		t.Run(block.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					provider := block.provider
					if tt.provider != nil {
						provider = tt.provider
					}
					_, err := provider.Verify(context.Background(), tt.token())
					f := refusalOf(t, err)
					if f.Reason != tt.reason || f.Description != tt.desc || f.Status != http.StatusUnauthorized || f.Code != authn.CodeInvalidToken {
						t.Errorf("refusal = %+v, want reason %q, description %q, 401 invalid_token", f, tt.reason, tt.desc)
					}
				})
			}
			// The valid token that every case above spoils is accepted.
			if _, err := block.provider.Verify(context.Background(), sign(t, rsKey, valid(), nil)); err != nil {
				t.Fatalf("valid token refused: %v", err)
			}
		})
	}
}

// tamper changes one character in the middle of a token's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := "A"
	if token[i] == 'A' {
		c = "B"
	}
	return token[:i] + c + token[i+1:]
}

func TestTypAtJWTAccepted(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}, RequireATJWT: true})
	for _, typ := range []string{"at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"} {
		if _, err := p.Verify(context.Background(), sign(t, k, iss.claims(), map[string]any{"typ": typ})); err != nil {
			t.Errorf("typ %q refused: %v", typ, err)
		}
	}
}

func TestLeeway(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}}) // default leeway 30s
	now := time.Now()

	claims := iss.claims()
	claims["exp"] = now.Add(-10 * time.Second).Unix()
	if _, err := p.Verify(context.Background(), sign(t, k, claims, nil)); err != nil {
		t.Errorf("token expired 10s ago refused despite 30s leeway: %v", err)
	}
	claims = iss.claims()
	claims["nbf"] = now.Add(10 * time.Second).Unix()
	claims["iat"] = now.Add(10 * time.Second).Unix()
	if _, err := p.Verify(context.Background(), sign(t, k, claims, nil)); err != nil {
		t.Errorf("token valid from 10s ahead refused despite 30s leeway: %v", err)
	}
}
