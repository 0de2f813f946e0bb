// Package bearer is Gatehouse's bearer-JWT track: a Caddy authentication
// provider that verifies JWT access tokens sent as
// `Authorization: Bearer <token>` against the signing keys of the issuers
// it trusts (one, or several while clients move from one issuer to
// another).
//
// It sits between credential extraction and policy: the gatehouse policy
// handler (package policy) calls it through authn.Verifier, and Caddy's
// stock authentication handler through caddyauth.Authenticator. A token's
// iss selects the issuer whose keys verify it (issuers.go). Each issuer's
// keys (issuerkeys.go) and the cache of verified tokens (cache.go) are
// shared process-wide, so routes with the same settings and configs that
// replace each other on `caddy reload` reuse them.
package bearer

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

func init() {
	caddy.RegisterModule(Provider{})
}

// Defaults and bounds of the configuration.
const (
	DefaultLeeway                    = 30 * time.Second
	DefaultMaxTokenBytes             = 8 << 10
	DefaultRefreshInterval           = 15 * time.Minute
	DefaultUnknownKIDRefreshInterval = 30 * time.Second
	DefaultHTTPTimeout               = 10 * time.Second
	DefaultCacheMaxEntries           = 10_000

	maxLeeway        = 5 * time.Minute
	maxTokenBytes    = 64 << 10
	minIntervals     = time.Second
	maxHTTPTimeout   = 2 * time.Minute
	maxCacheEntries  = 10_000_000
	bearerScheme     = "Bearer"
	credentialHeader = "Authorization"
)

// Provider verifies JWT access tokens issued by the issuers it trusts. It
// is the Caddy module http.authentication.providers.gatehouse_bearer.
//
// Each issuer has its own signing keys, fetched and refreshed on its own.
// If an issuer cannot be reached when the config loads, Caddy still
// starts: the provider keeps retrying that issuer's discovery and JWKS
// fetch in the background (backoff from 1s doubling to 1min, with jitter),
// and until it holds that issuer's keys it refuses the issuer's tokens
// with 503 temporarily_unavailable (the gatehouse policy handler adds
// `Retry-After`; Caddy's stock authentication handler can only answer
// 401). Tokens of the other issuers are not affected. Once keys are held,
// an issuer outage changes nothing for valid tokens: the last good key set
// stays in use.
type Provider struct {
	// Issuers are the issuer URLs whose tokens are accepted. A token's
	// `iss` claim must equal one of them exactly, and only that issuer's
	// keys can verify its signature. Unless jwks_urls names its JWKS,
	// OpenID discovery at `<issuer>/.well-known/openid-configuration` finds
	// each issuer's JWKS, and the document must name the issuer exactly.
	// At least one, at most 16, no repeats.
	Issuers []string `json:"issuers,omitempty"`

	// JWKSURLs maps issuers (each one of Issuers) to their JWKS, for
	// issuers without OpenID discovery; discovery is skipped for them.
	JWKSURLs map[string]string `json:"jwks_urls,omitempty"`

	// Audiences, when set, makes `aud` required: it must contain at least
	// one of them, whichever trusted issuer signed the token. When empty,
	// `aud` is not checked. Like every setting below, it applies to all
	// the issuers alike.
	Audiences []string `json:"audiences,omitempty"`

	// Algorithms is the allow-list of signature algorithms (the JWS `alg`
	// header). Only public-key algorithms are supported: RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA. "none" and
	// HMAC (HS*) are refused. Default: RS256, PS256, ES256, EdDSA.
	Algorithms []string `json:"algorithms,omitempty"`

	// Leeway is the clock skew tolerated when checking exp, nbf and iat.
	// Default 30s (when unset); at most 5m; 0 tolerates none.
	Leeway *caddy.Duration `json:"leeway,omitempty"`

	// RequireATJWT requires the `typ` header of RFC 9068 access tokens,
	// "at+jwt" or "application/at+jwt" (case-insensitive), which keeps ID
	// tokens and other JWTs of the same issuer from being used as access
	// tokens. Default false, because many issuers (IdentityServer before
	// version 4, some Keycloak setups) sign access tokens with typ "JWT".
	RequireATJWT bool `json:"require_at_jwt,omitempty"`

	// MaxTokenBytes is the largest token accepted; larger ones are refused
	// before any parsing. Default 8192; at most 65536.
	MaxTokenBytes int `json:"max_token_bytes,omitempty"`

	// RefreshInterval is how often each issuer's JWKS is fetched again in
	// the background, to pick up new and retired keys. Default 15m; at
	// least 1s.
	RefreshInterval caddy.Duration `json:"refresh_interval,omitempty"`

	// UnknownKIDRefreshInterval is the least time between two JWKS fetches
	// triggered by tokens naming a kid that is not held (as after an issuer
	// rotates its key), counted for each issuer on its own. Tokens refused
	// meanwhile are refused at once, so a flood of made-up kids costs each
	// issuer one request per interval. Default 30s; at least 1s.
	UnknownKIDRefreshInterval caddy.Duration `json:"unknown_kid_refresh_interval,omitempty"`

	// HTTPTimeout bounds each discovery or JWKS request to the issuer.
	// Default 10s; at most 2m.
	HTTPTimeout caddy.Duration `json:"http_timeout,omitempty"`

	// CacheMaxEntries bounds the cache of verified tokens, which lets a
	// repeated token skip the signature check until its exp. Default 10000.
	CacheMaxEntries int `json:"cache_max_entries,omitempty"`

	maxTokenBytes int
	issuers       []*trustedIssuer
	cacheKey      decisionCacheKey
	cache         *decisionCache
}

// CaddyModule returns the Caddy module information.
func (Provider) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.authentication.providers.gatehouse_bearer",
		New: func() caddy.Module { return new(Provider) },
	}
}

// Provision applies defaults, then acquires each issuer's shared key set
// (starting discovery and the JWKS fetch if no loaded config holds it yet)
// and the shared decision cache. It succeeds even if issuers cannot be
// reached; see Provider.
func (p *Provider) Provision(ctx caddy.Context) error {
	if p.Algorithms == nil {
		p.Algorithms = slices.Clone(DefaultAlgorithms)
	}
	if p.Leeway == nil {
		leeway := caddy.Duration(DefaultLeeway)
		p.Leeway = &leeway
	}
	if p.MaxTokenBytes == 0 {
		p.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if p.RefreshInterval == 0 {
		p.RefreshInterval = caddy.Duration(DefaultRefreshInterval)
	}
	if p.UnknownKIDRefreshInterval == 0 {
		p.UnknownKIDRefreshInterval = caddy.Duration(DefaultUnknownKIDRefreshInterval)
	}
	if p.HTTPTimeout == 0 {
		p.HTTPTimeout = caddy.Duration(DefaultHTTPTimeout)
	}
	if p.CacheMaxEntries == 0 {
		p.CacheMaxEntries = DefaultCacheMaxEntries
	}
	// Validate now rather than after Provision, as Caddy would: an invalid
	// config must not reach out to an issuer.
	if err := p.Validate(); err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}

	leeway := time.Duration(*p.Leeway)
	options := []jwt.ParserOption{
		jwt.WithValidMethods(p.Algorithms),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
	}
	if len(p.Audiences) > 0 {
		options = append(options, jwt.WithAudience(p.Audiences...))
	}
	p.maxTokenBytes = p.MaxTokenBytes

	// Every key set starts fetching before any is waited for. On an error,
	// Caddy calls Cleanup, which releases the sets acquired so far.
	sets := make([]*issuerKeys, 0, len(p.Issuers))
	for _, issuer := range p.Issuers {
		key := keySetKey{
			issuer:             issuer,
			jwksURL:            p.JWKSURLs[issuer],
			refreshInterval:    time.Duration(p.RefreshInterval),
			unknownKIDInterval: time.Duration(p.UnknownKIDRefreshInterval),
			httpTimeout:        time.Duration(p.HTTPTimeout),
		}
		keys, err := acquireIssuerKeys(key, ctx.Logger())
		if err != nil {
			return err
		}
		p.issuers = append(p.issuers, &trustedIssuer{
			url:     issuer,
			keysKey: key,
			keys:    keys,
			parser:  jwt.NewParser(append(slices.Clip(options), jwt.WithIssuer(issuer))...),
		})
		sets = append(sets, keys)
	}
	awaitFirstAttempts(sets)

	p.cacheKey = decisionCacheKey{
		issuers:            issuersKey(p.issuers),
		refreshInterval:    time.Duration(p.RefreshInterval),
		unknownKIDInterval: time.Duration(p.UnknownKIDRefreshInterval),
		httpTimeout:        time.Duration(p.HTTPTimeout),
		audiences:          strings.Join(p.Audiences, "\n"),
		algorithms:         strings.Join(p.Algorithms, "\n"),
		leeway:             leeway,
		requireATJWT:       p.RequireATJWT,
		maxTokenBytes:      p.MaxTokenBytes,
		maxEntries:         p.CacheMaxEntries,
	}
	cache, err := acquireDecisionCache(p.cacheKey)
	if err != nil {
		return err
	}
	p.cache = cache
	return nil
}

// Validate rejects a configuration that could not be enforced safely.
func (p *Provider) Validate() error {
	if err := p.validateIssuers(); err != nil {
		return err
	}
	for _, aud := range p.Audiences {
		if aud == "" {
			return fmt.Errorf("audiences: an audience cannot be empty")
		}
	}
	if p.Algorithms != nil && len(p.Algorithms) == 0 {
		return fmt.Errorf("algorithms: the allow-list is empty, so no token could be accepted")
	}
	for _, alg := range p.Algorithms {
		if err := checkAlgorithm(alg); err != nil {
			return fmt.Errorf("algorithms: %w", err)
		}
	}
	if p.Leeway != nil && (*p.Leeway < 0 || time.Duration(*p.Leeway) > maxLeeway) {
		return fmt.Errorf("leeway must be between 0 and %s", maxLeeway)
	}
	if p.MaxTokenBytes < 0 || p.MaxTokenBytes > maxTokenBytes {
		return fmt.Errorf("max_token_bytes must be positive and at most %d", maxTokenBytes)
	}
	for name, d := range map[string]caddy.Duration{
		"refresh_interval":             p.RefreshInterval,
		"unknown_kid_refresh_interval": p.UnknownKIDRefreshInterval,
	} {
		if d != 0 && time.Duration(d) < minIntervals {
			return fmt.Errorf("%s must be at least %s", name, minIntervals)
		}
	}
	if p.HTTPTimeout < 0 || time.Duration(p.HTTPTimeout) > maxHTTPTimeout {
		return fmt.Errorf("http_timeout must be positive and at most %s", maxHTTPTimeout)
	}
	if p.CacheMaxEntries < 0 || p.CacheMaxEntries > maxCacheEntries {
		return fmt.Errorf("cache_max_entries must be positive and at most %d", maxCacheEntries)
	}
	return nil
}

func (p *Provider) validateIssuers() error {
	if len(p.Issuers) == 0 {
		return fmt.Errorf("issuers: at least one issuer is required")
	}
	if len(p.Issuers) > maxIssuers {
		return fmt.Errorf("issuers: %d issuers, at most %d are supported", len(p.Issuers), maxIssuers)
	}
	for i, issuer := range p.Issuers {
		if err := checkHTTPURL(issuer); err != nil {
			return fmt.Errorf("issuers: %w", err)
		}
		if slices.Contains(p.Issuers[:i], issuer) {
			return fmt.Errorf("issuers: %q is listed twice", issuer)
		}
	}
	for _, issuer := range slices.Sorted(maps.Keys(p.JWKSURLs)) {
		if !slices.Contains(p.Issuers, issuer) {
			return fmt.Errorf("jwks_urls: %q is not one of the issuers", issuer)
		}
		if err := checkHTTPURL(p.JWKSURLs[issuer]); err != nil {
			return fmt.Errorf("jwks_urls: issuer %s: %w", issuer, err)
		}
	}
	return nil
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", raw)
	}
	return nil
}

// Cleanup releases the shared key sets and cache; the last config to
// release them stops their goroutines.
func (p *Provider) Cleanup() error {
	var err error
	for _, ti := range p.issuers {
		if rerr := releaseIssuerKeys(ti.keysKey); err == nil {
			err = rerr
		}
	}
	p.issuers = nil
	if p.cache != nil {
		if cerr := releaseDecisionCache(p.cacheKey); err == nil {
			err = cerr
		}
		p.cache = nil
	}
	return err
}

// Track implements authn.Verifier.
func (*Provider) Track() authn.Track { return authn.TrackBearer }

// Scheme implements authn.Verifier.
func (*Provider) Scheme() string { return bearerScheme }

// CredentialHeader implements authn.Verifier.
func (*Provider) CredentialHeader() string { return credentialHeader }

// Authenticate implements caddyauth.Authenticator, for Caddy's stock
// authentication handler.
func (p *Provider) Authenticate(w http.ResponseWriter, r *http.Request) (caddyauth.User, bool, error) {
	return authn.Authenticate(p, w, r)
}

// Interface guards
var (
	_ caddy.Provisioner       = (*Provider)(nil)
	_ caddy.Validator         = (*Provider)(nil)
	_ caddy.CleanerUpper      = (*Provider)(nil)
	_ caddyauth.Authenticator = (*Provider)(nil)
	_ caddyfile.Unmarshaler   = (*Provider)(nil)
	_ authn.Verifier          = (*Provider)(nil)
)
