// Package adminapi is the clients admin API: the HTTP handler through which
// administrators create, list, rotate, disable, enable and delete the
// API-key clients of the key store, and read its audit log.
//
// It sits behind the gatehouse policy handler in a Caddy route. The policy
// handler verifies the caller's bearer token and puts the verified
// authn.Identity into the request context; this handler checks the
// identity's scopes (admin.read for reads, admin.write for changes),
// records the caller as the actor of every change, and works on the same
// pooled key store as the API-key track, so that each change takes effect
// on the very next request through the gateway. Requests to paths that are
// not this API pass to the next handler, so that a reverse_proxy to
// another admin upstream can follow in the same route.
//
// openapi.yaml in this package documents the API; a test checks the
// handler against it.
package adminapi

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults of the handler's configuration.
const (
	DefaultBasePath     = "/admin/api/v1"
	DefaultMaxBodyBytes = 64 << 10
	DefaultReadScope    = "admin.read"
	DefaultWriteScope   = "admin.write"
)

// Handler serves the clients admin API: {base_path}/clients and
// {base_path}/audit. Every other request passes to the next handler.
type Handler struct {
	// Store is the key store's bbolt file: the same file the API-key
	// track reads. The process opens it once, whichever modules name it,
	// and keeps it open across `caddy reload`; every change made here
	// reaches the track's lookup cache at once. Placeholders such as
	// {env.GATEHOUSE_DATA_DIR} are replaced. Default: gatehouse/keys.db in
	// Caddy's data directory, as for the API-key track.
	Store string `json:"store,omitempty"`

	// Prefix, when set, is the key prefix the store must have, e.g.
	// "rsa_live_": a store issues keys with the prefix it was created
	// with, and provisioning fails if that is another one. Default: accept
	// the store's prefix (rsa_live_ for a store this handler creates).
	Prefix string `json:"prefix,omitempty"`

	// BasePath is the path under which the API answers, without a
	// trailing slash. Default: /admin/api/v1 (clients at
	// /admin/api/v1/clients, the audit log at /admin/api/v1/audit).
	BasePath string `json:"base_path,omitempty"`

	// MaxBodyBytes caps the size of a request body; larger bodies are
	// refused with 400 before anything is decoded. Default: 65536.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`

	// DefaultGracePeriod is how long a rotated-out key stays valid when a
	// rotate-secret request names no grace period. Default: 0 (the old
	// key is refused at once).
	DefaultGracePeriod caddy.Duration `json:"default_grace_period,omitempty"`

	// MaxGracePeriod is the longest grace period a rotate-secret request
	// may ask for. Default and upper bound: the key store's limit, 30 days.
	MaxGracePeriod caddy.Duration `json:"max_grace_period,omitempty"`

	// ReadScope is the scope a caller needs for GET requests.
	// Default: admin.read.
	ReadScope string `json:"read_scope,omitempty"`

	// WriteScope is the scope a caller needs for changes.
	// Default: admin.write.
	WriteScope string `json:"write_scope,omitempty"`

	// Realm is named in the WWW-Authenticate challenges of this handler's
	// 401 and 403 answers; set it to the gatehouse handler's realm in the
	// same route. Default: "gatehouse".
	Realm string `json:"realm,omitempty"`

	storePath string
	store     *keystore.CachedStore
	logger    *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse_admin_api",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision applies defaults and acquires the key store from the pool.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.BasePath == "" {
		h.BasePath = DefaultBasePath
	}
	// "/" serves the API at /clients and /audit.
	h.BasePath = strings.TrimRight(h.BasePath, "/")
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if h.MaxGracePeriod == 0 {
		h.MaxGracePeriod = caddy.Duration(keystore.MaxRotationGrace)
	}
	if h.ReadScope == "" {
		h.ReadScope = DefaultReadScope
	}
	if h.WriteScope == "" {
		h.WriteScope = DefaultWriteScope
	}
	if h.Realm == "" {
		h.Realm = authn.DefaultRealm
	}
	path := h.Store
	if path == "" {
		path = filepath.Join(caddy.AppDataDir(), "gatehouse", "keys.db")
	}
	path, err := filepath.Abs(caddy.NewReplacer().ReplaceKnown(path, ""))
	if err != nil {
		return fmt.Errorf("gatehouse_admin_api: store path: %w", err)
	}
	store, err := keystore.Acquire(path, keystore.PoolOptions{KeyPrefix: h.Prefix, Logger: h.logger})
	if err != nil {
		return fmt.Errorf("gatehouse_admin_api: %w", err)
	}
	h.storePath, h.store = path, store
	return nil
}

// Validate rejects configurations that cannot work.
func (h *Handler) Validate() error {
	if h.BasePath != "" && !strings.HasPrefix(h.BasePath, "/") {
		return fmt.Errorf("base_path %q must start with /", h.BasePath)
	}
	if h.ReadScope == "" || h.WriteScope == "" || strings.ContainsAny(h.ReadScope+h.WriteScope, " \t\"\\") {
		return fmt.Errorf("read_scope and write_scope must be single scope tokens")
	}
	if h.MaxBodyBytes < 0 {
		return fmt.Errorf("max_body_bytes must not be negative")
	}
	if h.DefaultGracePeriod < 0 || h.MaxGracePeriod < 0 {
		return fmt.Errorf("grace periods must not be negative")
	}
	if time.Duration(h.MaxGracePeriod) > keystore.MaxRotationGrace {
		return fmt.Errorf("max_grace_period %s exceeds the key store's limit of %s",
			time.Duration(h.MaxGracePeriod), keystore.MaxRotationGrace)
	}
	if h.DefaultGracePeriod > h.MaxGracePeriod {
		return fmt.Errorf("default_grace_period %s exceeds max_grace_period %s",
			time.Duration(h.DefaultGracePeriod), time.Duration(h.MaxGracePeriod))
	}
	return nil
}

// Cleanup releases this handler's hold on the pooled key store; the file
// stays open while another configuration (such as the one a reload
// provisions) still uses it.
func (h *Handler) Cleanup() error {
	if h.store == nil {
		return nil
	}
	h.store = nil
	return keystore.Release(h.storePath)
}

// ServeHTTP answers requests to the API and passes every other request on.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rt, ok := h.match(r.URL.Path)
	if !ok {
		return next.ServeHTTP(w, r)
	}
	h.serve(w, r, rt)
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
