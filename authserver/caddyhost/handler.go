// Package caddyhost hosts the authserver inside the Gatehouse build of
// Caddy, so that one process runs the gateway and the authserver: the
// HTTP handler module http.handlers.gatehouse_authserver (Caddyfile
// directive gatehouse_authserver) and the `caddy gatehouse authserver`
// management commands.
//
// The handler's store file is opened once per process through a
// caddy.UsagePool (pool.go), so `caddy reload` provisions the new config
// on the open store while the old one still serves.
package caddyhost

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
	"github.com/gatehouse-gw/gatehouse/internal/clientip"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler serves the authserver: /.well-known/openid-configuration and its
// JWKS, /connect/*, and the /account login and consent pages. It answers
// every request it receives, so route only the authserver's site or
// paths to it. It is the Caddy module http.handlers.gatehouse_authserver.
type Handler struct {
	// Issuer is the public URL of the authserver, exactly as in `iss` and
	// the discovery document, e.g. "http://localhost:5000". Required.
	Issuer string `json:"issuer,omitempty"`
	// Store is the authserver's bbolt file (clients, users, consents,
	// tokens, signing keys). Required.
	Store string `json:"store,omitempty"`
	// KeyEncryptionKeyFile holds the secret (at least 32 random
	// characters) that encrypts signing keys at rest. Without it the
	// secret is read from the file named by $GATEHOUSE_KEY_ENCRYPTION_KEY_FILE,
	// else from $GATEHOUSE_KEY_ENCRYPTION_KEY, as the management commands
	// do; without any, keys are stored unencrypted.
	KeyEncryptionKeyFile string `json:"key_encryption_key_file,omitempty"`
	// Seed is a JSON seed file of clients and users, read at each
	// provisioning. Each entry is applied once: its client or user is
	// created if missing, and a client or user removed later stays
	// removed (see `caddy gatehouse authserver seed --help`).
	Seed string `json:"seed,omitempty"`
	// DemoCredentials, when set, makes a first start on an empty store
	// create a demo admin client, portal client and user (and, with
	// KeyStore, a POS API key), print them and write them to this file.
	// Empty or "off" creates none, as production wants.
	DemoCredentials string `json:"demo_credentials,omitempty"`
	// KeyStore is the gateway's API-key store file in which the demo POS
	// key is created. Only used with DemoCredentials.
	KeyStore string `json:"key_store,omitempty"`

	// Audience of access tokens. Default: Issuer + "/resources".
	Audience []string `json:"audience,omitempty"`
	// ScopeFormat of the access token's scope claim: "string" (default)
	// or "array" (IdentityServer's).
	ScopeFormat string `json:"scope_format,omitempty"`
	// AccessTokenLifetime unless a client sets its own. Default 1h; 1m
	// to max_token_lifetime.
	AccessTokenLifetime caddy.Duration `json:"access_token_lifetime,omitempty"`
	// IDTokenLifetime. Default 1h; 1m to max_token_lifetime.
	IDTokenLifetime caddy.Duration `json:"id_token_lifetime,omitempty"`
	// RefreshTokenLifetime unless a client sets its own. Default 720h (30
	// days); 1m to 8760h (365 days).
	RefreshTokenLifetime caddy.Duration `json:"refresh_token_lifetime,omitempty"`
	// CodeLifetime of authorization codes unless a client sets its own.
	// Default 5m; 10s to 10m.
	CodeLifetime caddy.Duration `json:"code_lifetime,omitempty"`
	// AuthRequestLifetime is the time a person has for login and consent.
	// Default 30m; 1m to 24h.
	AuthRequestLifetime caddy.Duration `json:"auth_request_lifetime,omitempty"`
	// SessionLifetime is how long a browser stays logged in. Default 8h;
	// 1m to 720h (30 days).
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`
	// MaxTokenLifetime caps every token lifetime; retired signing keys
	// stay published this long plus an hour. Default 24h; 1m to 168h.
	MaxTokenLifetime caddy.Duration `json:"max_token_lifetime,omitempty"`
	// KeyRotationInterval is how long each signing key signs. Default
	// 720h (30 days); 1h to 8760h.
	KeyRotationInterval caddy.Duration `json:"key_rotation_interval,omitempty"`
	// KeyPublishLead is how long a new key is published before it signs.
	// Default 24h; at least 1m and shorter than key_rotation_interval.
	KeyPublishLead caddy.Duration `json:"key_publish_lead,omitempty"`
	// LoginThrottle limits failed logins. Default: 5 per account or 20
	// per source address within 15m.
	LoginThrottle *LoginThrottle `json:"login_throttle,omitempty"`
	// ScopeDescriptions are the consent page's words for scopes, beside
	// (and over) the built-in ones for openid, profile, email,
	// offline_access, admin.read and admin.write. At most 100, each 1-200
	// characters.
	ScopeDescriptions map[string]string `json:"scope_descriptions,omitempty"`

	srv      *authserver.Server
	storeKey string
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse_authserver",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision opens the store (shared through the pool), applies the seed,
// creates demo credentials on a first start and builds the server.
func (h *Handler) Provision(ctx caddy.Context) error {
	if err := h.Validate(); err != nil {
		return err
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	secret, err := keys.LoadSecret(h.KeyEncryptionKeyFile)
	if err != nil {
		return err
	}
	pooled, key, err := acquireStore(h.Store)
	if err != nil {
		return err
	}
	h.storeKey = key
	st := pooled.Bolt
	log := ctx.Slogger()
	now := time.Now()
	if h.Seed != "" {
		seed, err := authserver.LoadSeed(h.Seed)
		if err != nil {
			return h.fail(err)
		}
		report, err := authserver.ApplySeed(ctx, st, seed, now)
		if err != nil {
			return h.fail(err)
		}
		if len(report.Created) > 0 || len(report.Existing) > 0 {
			log.Info("seed applied", "file", h.Seed, "created", report.Created, "existing", report.Existing, "skipped", len(report.Skipped))
		}
	}
	if demoFile := h.demoCredentialsFile(); demoFile != "" {
		opts := authserver.DemoOptions{Issuer: h.Issuer, Path: demoFile, Now: now}
		if h.KeyStore != "" {
			opts.POSKey = h.createPOSKey
		}
		creds, err := authserver.EnsureDemoCredentials(ctx, st, opts)
		if err != nil {
			return h.fail(err)
		}
		if creds != nil {
			creds.Print(os.Stdout)
			log.Info("demo credentials created", "file", demoFile)
		}
	}
	h.srv, err = authserver.New(h.serverConfig(secret), st, authserver.WithLogger(log),
		authserver.WithFailedLogins(pooled.failedLogins), authserver.WithClientAddress(clientip.Of))
	if err != nil {
		return h.fail(err)
	}
	return nil
}

// fail releases the store after a failed provisioning.
func (h *Handler) fail(err error) error {
	return errors.Join(err, releaseStore(h.storeKey))
}

// createPOSKey creates the demo POS terminal's API key in the gateway's
// key store, shared through the key store's own pool.
func (h *Handler) createPOSKey(ctx context.Context) (string, string, error) {
	ks, err := keystore.Acquire(h.KeyStore, keystore.PoolOptions{})
	if err != nil {
		return "", "", err
	}
	defer keystore.Release(h.KeyStore)
	c, key, _, err := ks.Create(ctx, keystore.NewClient{Name: "Demo POS terminal", Scopes: []string{"pos.read", "pos.write"}})
	if err != nil {
		return "", "", err
	}
	return c.ID, key, nil
}

// Validate checks the required fields and every value's bounds.
func (h *Handler) Validate() error {
	if h.Issuer == "" {
		return errors.New("gatehouse_authserver: issuer is required")
	}
	if h.Store == "" {
		return errors.New("gatehouse_authserver: store is required")
	}
	if err := h.serverConfig(nil).Validate(); err != nil {
		return fmt.Errorf("gatehouse_authserver: %w", err)
	}
	return nil
}

// ServeHTTP answers the request with the authserver.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	h.srv.ServeHTTP(w, r)
	return nil
}

// Cleanup stops the server's background work and releases the store.
func (h *Handler) Cleanup() error {
	if h.srv != nil {
		h.srv.Close()
	}
	if h.storeKey == "" {
		return nil
	}
	return releaseStore(h.storeKey)
}

var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
