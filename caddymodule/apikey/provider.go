// Package apikey is the API-key track: a Caddy authentication provider
// that admits requests carrying a key issued by the key store (package
// keystore), such as the keys of POS terminals.
//
// A key is checked for shape and checksum before any lookup, then found by
// its SHA-256 hash through the process-wide cached store; the client's
// status, expiry and rotation state decide. Every accepted use is noted for
// the client's last_used_at without a write per request.
package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/caddyauth"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/internal/metrics"
)

func init() {
	caddy.RegisterModule(Provider{})
}

// DefaultHeader is the request header that carries API keys.
const DefaultHeader = "X-Api-Key"

// maxCredentialBytes bounds what is read from the header before the
// format check refuses it; no well-formed key is this long.
const maxCredentialBytes = 256

// Provider verifies API keys. It implements authn.Verifier for the
// gatehouse handler and caddyauth.Authenticator for Caddy's stock
// authentication handler.
type Provider struct {
	// Store is the key store's bbolt file. One process opens each file
	// once, however many routes name it, and keeps it open across
	// `caddy reload`. Default: gatehouse/keys.db in Caddy's data directory.
	Store string `json:"store,omitempty"`

	// Header is the request header that carries the key. Default: X-Api-Key.
	Header string `json:"header,omitempty"`

	// Prefix starts every key of the store, e.g. "rsa_live_". Keys without
	// it are refused before any lookup. Default: rsa_live_.
	Prefix string `json:"prefix,omitempty"`

	// CacheMaxEntries bounds the lookup cache (hits and misses) of the
	// store. The first route to open a store file sets it. Default: 100000.
	CacheMaxEntries int `json:"cache_max_entries,omitempty"`

	// LastUsedFlushInterval is how often noted uses are written to the
	// store as last_used_at, in one transaction; it bounds their
	// staleness. The first route to open a store file sets it. Default: 30s.
	LastUsedFlushInterval caddy.Duration `json:"last_used_flush_interval,omitempty"`

	format    keystore.KeyFormat
	storePath string
	store     *keystore.CachedStore
	now       func() time.Time
}

// CaddyModule returns the Caddy module information.
func (Provider) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.authentication.providers.gatehouse_api_key",
		New: func() caddy.Module { return new(Provider) },
	}
}

// Provision opens (or shares) the key store.
func (p *Provider) Provision(ctx caddy.Context) error {
	if p.Header == "" {
		p.Header = DefaultHeader
	}
	p.Header = http.CanonicalHeaderKey(p.Header)
	if p.Prefix == "" {
		p.Prefix = keystore.DefaultKeyPrefix
	}
	format, err := keystore.NewKeyFormat(p.Prefix)
	if err != nil {
		return fmt.Errorf("gatehouse_api_key: %w", err)
	}
	p.format = format
	path := p.Store
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "gatehouse", "keys.db")
	}
	store, err := keystore.Acquire(path, keystore.PoolOptions{
		KeyPrefix:       p.Prefix,
		CacheMaxEntries: p.CacheMaxEntries,
		FlushInterval:   time.Duration(p.LastUsedFlushInterval),
		Logger:          ctx.Logger(),
	})
	if err != nil {
		return fmt.Errorf("gatehouse_api_key: %w", err)
	}
	p.storePath, p.store, p.now = path, store, time.Now
	return metrics.Register(ctx.GetMetricsRegistry(), cacheLookups)
}

// Cleanup releases the key store; the last user closes it.
func (p *Provider) Cleanup() error {
	if p.store == nil {
		return nil
	}
	p.store = nil
	return keystore.Release(p.storePath)
}

// Track implements authn.Verifier.
func (p *Provider) Track() authn.Track { return authn.TrackAPIKey }

// Scheme implements authn.Verifier. "ApiKey" is not a registered scheme;
// the challenge carries the RFC 6750 parameters so clients read it alike.
func (p *Provider) Scheme() string { return "ApiKey" }

// CredentialHeader implements authn.Verifier.
func (p *Provider) CredentialHeader() string { return p.Header }

// Credential implements authn.Verifier: the single value of the key header.
func (p *Provider) Credential(r *http.Request) (string, bool, *authn.Failure) {
	values := r.Header[p.Header]
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1:
		return "", true, authn.InvalidRequest("multiple_credentials", "send one "+p.Header+" header")
	case values[0] == "":
		return "", true, authn.InvalidRequest("empty_credential", "the "+p.Header+" header is empty")
	}
	return values[0], true, nil
}

// Verify implements authn.Verifier.
func (p *Provider) Verify(ctx context.Context, key string) (authn.Identity, error) {
	if len(key) > maxCredentialBytes {
		return authn.Identity{}, authn.InvalidToken("malformed_key", "API key is malformed")
	}
	if err := p.format.Check(key); err != nil {
		return authn.Identity{}, formatFailure(err)
	}
	hash := keystore.HashKey(key)
	client, slot, err := p.store.Lookup(ctx, hash)
	if errors.Is(err, keystore.ErrNotFound) {
		return authn.Identity{}, authn.InvalidToken("unknown_key", "API key not recognised")
	}
	if err != nil {
		return authn.Identity{}, fmt.Errorf("looking up API key: %w", err)
	}
	return p.judge(client, slot, hash)
}

// judge decides on the client whose key matched.
func (p *Provider) judge(c keystore.Client, slot keystore.KeySlot, hash keystore.Hash) (authn.Identity, error) {
	key, retiringUntil := c.Key, time.Time{}
	if slot == keystore.SlotRetiring {
		if c.Retiring == nil {
			return authn.Identity{}, authn.InvalidToken("unknown_key", "API key not recognised")
		}
		key, retiringUntil = c.Retiring.Key, c.Retiring.ExpiresAt
	}
	// The index led here by hash; confirm the record agrees, in constant
	// time, so that a damaged index can never admit another key.
	if subtle.ConstantTimeCompare(key.Hash[:], hash[:]) != 1 {
		return authn.Identity{}, authn.InvalidToken("unknown_key", "API key not recognised")
	}
	now := p.now()
	if slot == keystore.SlotRetiring && !now.Before(retiringUntil) {
		return authn.Identity{}, authn.InvalidToken("rotated_key", "API key was rotated out")
	}
	if c.Status != keystore.StatusActive {
		return authn.Identity{}, authn.InvalidToken("disabled_key", "API key is disabled")
	}
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return authn.Identity{}, authn.InvalidToken("expired_key", "API key has expired")
	}
	expires := c.ExpiresAt
	if !retiringUntil.IsZero() && (expires.IsZero() || retiringUntil.Before(expires)) {
		expires = retiringUntil
	}
	p.store.NoteUse(c.ID, now)
	return authn.Identity{
		Track:     authn.TrackAPIKey,
		Subject:   c.ID,
		ClientID:  c.ID,
		Scopes:    c.Scopes,
		KeyID:     key.Prefix,
		ExpiresAt: expires,
	}, nil
}

// formatFailure explains a key that failed the format check.
func formatFailure(err error) *authn.Failure {
	switch {
	case errors.Is(err, keystore.ErrKeyPrefix):
		return authn.InvalidToken("wrong_key_prefix", "API key does not have the expected prefix")
	case errors.Is(err, keystore.ErrKeyChecksum):
		return authn.InvalidToken("bad_key_checksum", "API key checksum does not match; check it was copied whole")
	default:
		return authn.InvalidToken("malformed_key", "API key is malformed")
	}
}

// Authenticate implements caddyauth.Authenticator.
func (p *Provider) Authenticate(w http.ResponseWriter, r *http.Request) (caddyauth.User, bool, error) {
	return authn.Authenticate(p, w, r)
}

// Interface guards
var (
	_ caddy.Provisioner       = (*Provider)(nil)
	_ caddy.CleanerUpper      = (*Provider)(nil)
	_ authn.Verifier          = (*Provider)(nil)
	_ caddyauth.Authenticator = (*Provider)(nil)
)
