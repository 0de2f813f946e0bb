package bearer

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestUnmarshalCaddyfile(t *testing.T) {
	d := caddyfile.NewTestDispenser(`bearer {
		issuer http://localhost:5000
		issuer https://identity.example.com https://login.example.com/realms/x
		issuers https://old.example.com
		issuer https://static.example.com jwks_url https://static.example.com/keys.json
		audience gateway admin
		audience pos
		algorithms RS256 ES256
		leeway 0s
		require_at_jwt
		max_token_bytes 4096
		refresh_interval 5m
		unknown_kid_refresh_interval 1m
		http_timeout 3s
		cache_max_entries 500
	}`)
	var got Provider
	if err := got.UnmarshalCaddyfile(d); err != nil {
		t.Fatal(err)
	}
	want := Provider{
		Issuers: []string{
			"http://localhost:5000",
			"https://identity.example.com",
			"https://login.example.com/realms/x",
			"https://old.example.com",
			"https://static.example.com",
		},
		JWKSURLs:                  map[string]string{"https://static.example.com": "https://static.example.com/keys.json"},
		Audiences:                 []string{"gateway", "admin", "pos"},
		Algorithms:                []string{"RS256", "ES256"},
		Leeway:                    ptr(caddy.Duration(0)),
		RequireATJWT:              true,
		MaxTokenBytes:             4096,
		RefreshInterval:           caddy.Duration(5 * time.Minute),
		UnknownKIDRefreshInterval: caddy.Duration(time.Minute),
		HTTPTimeout:               caddy.Duration(3 * time.Second),
		CacheMaxEntries:           500,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	tests := map[string]string{
		"argument after the name":  "bearer http://localhost:5000",
		"unknown subdirective":     "bearer {\n issuer http://a\n issuing http://b\n}",
		"issuer without a value":   "bearer {\n issuer\n}",
		"jwks_url on its own":      "bearer {\n issuer http://a\n jwks_url http://a/jwks\n}",
		"jwks_url for two issuers": "bearer {\n issuer http://a http://b jwks_url http://a/jwks\n}",
		"jwks_url without a value": "bearer {\n issuer http://a jwks_url\n}",
		"jwks_url first":           "bearer {\n issuer jwks_url http://a/jwks\n}",
		"audience without values":  "bearer {\n audience\n}",
		"bad duration":             "bearer {\n leeway soon\n}",
		"bad number":               "bearer {\n max_token_bytes 8k\n}",
		"require_at_jwt argument":  "bearer {\n require_at_jwt yes\n}",
	}
	for name, input := range tests {
		t.Run(name, func(t *testing.T) {
			var p Provider
			if err := p.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err == nil {
				t.Errorf("accepted %q", input)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Provider
		want string
	}{
		{name: "no issuer", cfg: Provider{}, want: "at least one issuer is required"},
		{name: "empty issuer list", cfg: Provider{Issuers: []string{}}, want: "at least one issuer is required"},
		{name: "relative issuer", cfg: Provider{Issuers: []string{"https://a", "localhost:5000"}}, want: "not an absolute"},
		{name: "issuer twice", cfg: Provider{Issuers: []string{"https://a", "https://b", "https://a"}}, want: `"https://a" is listed twice`},
		{name: "too many issuers", cfg: Provider{Issuers: manyIssuers(maxIssuers + 1)}, want: "at most 16"},
		{name: "bad jwks_url", cfg: Provider{Issuers: []string{"http://a"}, JWKSURLs: map[string]string{"http://a": "ftp://a/jwks"}}, want: "jwks_urls: issuer http://a"},
		{name: "jwks_url of an issuer not trusted", cfg: Provider{Issuers: []string{"http://a"}, JWKSURLs: map[string]string{"http://b": "http://b/jwks"}}, want: `"http://b" is not one of the issuers`},
		{name: "alg none", cfg: Provider{Issuers: []string{"http://a"}, Algorithms: []string{"RS256", "none"}}, want: `"none"`},
		{name: "HS256", cfg: Provider{Issuers: []string{"http://a"}, Algorithms: []string{"HS256"}}, want: "HMAC"},
		{name: "unknown alg", cfg: Provider{Issuers: []string{"http://a"}, Algorithms: []string{"RS1"}}, want: "not supported"},
		{name: "empty allow-list", cfg: Provider{Issuers: []string{"http://a"}, Algorithms: []string{}}, want: "empty"},
		{name: "empty audience", cfg: Provider{Issuers: []string{"http://a"}, Audiences: []string{""}}, want: "audience"},
		{name: "negative leeway", cfg: Provider{Issuers: []string{"http://a"}, Leeway: ptr(caddy.Duration(-time.Second))}, want: "leeway"},
		{name: "huge leeway", cfg: Provider{Issuers: []string{"http://a"}, Leeway: ptr(caddy.Duration(time.Hour))}, want: "leeway"},
		{name: "huge tokens", cfg: Provider{Issuers: []string{"http://a"}, MaxTokenBytes: 1 << 20}, want: "max_token_bytes"},
		{name: "refresh too often", cfg: Provider{Issuers: []string{"http://a"}, RefreshInterval: caddy.Duration(time.Millisecond)}, want: "refresh_interval"},
		{name: "unknown-kid refresh too often", cfg: Provider{Issuers: []string{"http://a"}, UnknownKIDRefreshInterval: caddy.Duration(time.Millisecond)}, want: "unknown_kid_refresh_interval"},
		{name: "negative timeout", cfg: Provider{Issuers: []string{"http://a"}, HTTPTimeout: caddy.Duration(-1)}, want: "http_timeout"},
		{name: "negative cache", cfg: Provider{Issuers: []string{"http://a"}, CacheMaxEntries: -1}, want: "cache_max_entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if err := (&Provider{Issuers: []string{"https://login.example.com/realms/x"}}).Validate(); err != nil {
		t.Errorf("minimal config refused: %v", err)
	}
	if err := (&Provider{Issuers: manyIssuers(maxIssuers)}).Validate(); err != nil {
		t.Errorf("%d issuers refused: %v", maxIssuers, err)
	}
}

func manyIssuers(n int) []string {
	issuers := make([]string, n)
	for i := range issuers {
		issuers[i] = fmt.Sprintf("https://issuer-%d.example.com", i)
	}
	return issuers
}

func TestProvisionRefusesInvalidConfigWithoutContactingTheIssuer(t *testing.T) {
	iss := startIssuer(t)
	ctx, cancel := caddy.NewContext(caddy.Context{Context: t.Context()})
	defer cancel()
	p := Provider{Issuers: []string{iss.url}, Algorithms: []string{"HS256"}}
	if err := p.Provision(ctx); err == nil {
		p.Cleanup()
		t.Fatal("provisioned with HS256")
	}
	if iss.discoveryHits.Load() != 0 {
		t.Error("the issuer was contacted for an invalid config")
	}
}
