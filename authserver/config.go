package authserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Defaults of Config.
const (
	DefaultAccessTokenLifetime  = time.Hour
	DefaultIDTokenLifetime      = time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	DefaultCodeLifetime         = 5 * time.Minute
	DefaultAuthRequestLifetime  = 30 * time.Minute
	DefaultSessionLifetime      = 8 * time.Hour
	DefaultMaxTokenLifetime     = 24 * time.Hour
	DefaultKeyRotationInterval  = 30 * 24 * time.Hour
	DefaultKeyPublishLead       = 24 * time.Hour
	DefaultMaintenanceInterval  = time.Minute
	DefaultLoginsPerAccount     = 5
	DefaultLoginsPerAddress     = 20
	DefaultLoginThrottleWindow  = 15 * time.Minute
	// DefaultAudienceSuffix makes the default access-token audience
	// "<issuer>/resources", the audience IdentityServer gives tokens
	// that name no API resource, so gateways configured for it keep working.
	DefaultAudienceSuffix = "/resources"
)

// Config configures a Server. The zero value of every field but Issuer
// means its default.
type Config struct {
	// Issuer is the public URL of the server, exactly as it appears in
	// `iss` and in the discovery document, e.g. "http://localhost:5000".
	Issuer string `json:"issuer"`
	// Audience is the `aud` of access tokens unless a client sets its own.
	// Default: Issuer + "/resources".
	Audience []string `json:"audience,omitempty"`
	// ScopeFormat writes the access token's `scope` claim as a
	// space-delimited string ("string", RFC 9068, the default) or as a
	// JSON array ("array", as IdentityServer does). Clients may override it.
	ScopeFormat string `json:"scope_format,omitempty"`

	// AccessTokenLifetime unless the client sets one. Default 1 hour;
	// 1 minute to MaxTokenLifetime.
	AccessTokenLifetime time.Duration `json:"access_token_lifetime,omitempty"`
	// IDTokenLifetime. Default 1 hour; 1 minute to MaxTokenLifetime.
	IDTokenLifetime time.Duration `json:"id_token_lifetime,omitempty"`
	// RefreshTokenLifetime unless the client sets one. Default 30 days;
	// 1 minute to 365 days.
	RefreshTokenLifetime time.Duration `json:"refresh_token_lifetime,omitempty"`
	// CodeLifetime unless the client sets one. Default 5 minutes; 10
	// seconds to 10 minutes.
	CodeLifetime time.Duration `json:"code_lifetime,omitempty"`
	// AuthRequestLifetime is the time a user has for login and consent.
	// Default 30 minutes; 1 minute to 24 hours.
	AuthRequestLifetime time.Duration `json:"auth_request_lifetime,omitempty"`
	// SessionLifetime is how long a browser stays logged in. Default 8
	// hours; 1 minute to 30 days.
	SessionLifetime time.Duration `json:"session_lifetime,omitempty"`
	// MaxTokenLifetime caps every access and ID token lifetime, including
	// clients' own; signing keys stay published this long (plus an hour)
	// after they stop signing. Default 24 hours; 1 minute to 7 days.
	MaxTokenLifetime time.Duration `json:"max_token_lifetime,omitempty"`

	// KeyRotationInterval is how long each signing key signs. Default 30
	// days; 1 hour to 365 days.
	KeyRotationInterval time.Duration `json:"key_rotation_interval,omitempty"`
	// KeyPublishLead is how long a new key is in the JWKS before it signs.
	// Default 24 hours; at least 1 minute and shorter than
	// KeyRotationInterval. It must exceed the JWKS cache time of every
	// verifier.
	KeyPublishLead time.Duration `json:"key_publish_lead,omitempty"`
	// KeyEncryptionSecret encrypts signing keys at rest when set (at
	// least 32 random bytes).
	KeyEncryptionSecret []byte `json:"-"`

	// ScopeDescriptions are shown on the consent page, by scope, beside
	// (and over) the built-in ones for openid, profile, email,
	// offline_access, admin.read and admin.write. At most 100, each 1-200
	// characters.
	ScopeDescriptions map[string]string `json:"scope_descriptions,omitempty"`

	// LoginThrottle limits failed logins.
	LoginThrottle ThrottleConfig `json:"login_throttle,omitzero"`

	// MaintenanceInterval is how often expired records are swept and the
	// key schedule is checked. Default 1 minute; 1 second to 1 hour.
	MaintenanceInterval time.Duration `json:"maintenance_interval,omitempty"`
}

// ThrottleConfig limits failed logins per account and per source address.
type ThrottleConfig struct {
	// PerAccount failures within Window lock the account's logins until
	// the window passes. Default 5; at most 1000.
	PerAccount int `json:"per_account,omitempty"`
	// PerAddress failures within Window lock logins from the address.
	// Default 20; at most 100000.
	PerAddress int `json:"per_address,omitempty"`
	// Window is the counting period. Default 15 minutes; 1 minute to 24 hours.
	Window time.Duration `json:"window,omitempty"`
}

// defaultScopeDescriptions are the consent page's words for well-known scopes.
var defaultScopeDescriptions = map[string]string{
	"openid":         "Sign you in and know who you are",
	"profile":        "See your name and username",
	"email":          "See your email address",
	"offline_access": "Stay connected when you are not using it (refresh tokens)",
	"admin.read":     "Read data through the admin API",
	"admin.write":    "Change data through the admin API",
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Validate reports whether New would accept c: the issuer, the formats
// and every value within its bounds.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("issuer %q must be an absolute http(s) URL without query or fragment", c.Issuer)
	}
	if strings.HasSuffix(c.Issuer, "/") {
		return c, fmt.Errorf("issuer %q must not end with a slash", c.Issuer)
	}
	if len(c.Audience) == 0 {
		c.Audience = []string{c.Issuer + DefaultAudienceSuffix}
	}
	switch c.ScopeFormat {
	case "":
		c.ScopeFormat = store.ScopeFormatString
	case store.ScopeFormatString, store.ScopeFormatArray:
	default:
		return c, fmt.Errorf("scope format %q: want %q or %q", c.ScopeFormat, store.ScopeFormatString, store.ScopeFormatArray)
	}
	if err := c.checkNotNegative(); err != nil {
		return c, err
	}
	c.MaxTokenLifetime = orDefault(c.MaxTokenLifetime, DefaultMaxTokenLifetime)
	c.AccessTokenLifetime = orDefault(c.AccessTokenLifetime, DefaultAccessTokenLifetime)
	c.IDTokenLifetime = orDefault(c.IDTokenLifetime, DefaultIDTokenLifetime)
	c.RefreshTokenLifetime = orDefault(c.RefreshTokenLifetime, DefaultRefreshTokenLifetime)
	c.CodeLifetime = orDefault(c.CodeLifetime, DefaultCodeLifetime)
	c.AuthRequestLifetime = orDefault(c.AuthRequestLifetime, DefaultAuthRequestLifetime)
	c.SessionLifetime = orDefault(c.SessionLifetime, DefaultSessionLifetime)
	c.KeyRotationInterval = orDefault(c.KeyRotationInterval, DefaultKeyRotationInterval)
	c.KeyPublishLead = orDefault(c.KeyPublishLead, DefaultKeyPublishLead)
	c.MaintenanceInterval = orDefault(c.MaintenanceInterval, DefaultMaintenanceInterval)
	if c.LoginThrottle.PerAccount == 0 {
		c.LoginThrottle.PerAccount = DefaultLoginsPerAccount
	}
	if c.LoginThrottle.PerAddress == 0 {
		c.LoginThrottle.PerAddress = DefaultLoginsPerAddress
	}
	c.LoginThrottle.Window = orDefault(c.LoginThrottle.Window, DefaultLoginThrottleWindow)
	if err := c.checkBounds(); err != nil {
		return c, err
	}
	descriptions := make(map[string]string, len(defaultScopeDescriptions)+len(c.ScopeDescriptions))
	for k, v := range defaultScopeDescriptions {
		descriptions[k] = v
	}
	for k, v := range c.ScopeDescriptions {
		descriptions[k] = v
	}
	c.ScopeDescriptions = descriptions
	return c, nil
}

// keyRetention is how long a retired key stays published: longer than
// any token it signed can live.
func (c Config) keyRetention() time.Duration { return c.MaxTokenLifetime + time.Hour }

// Option changes how New builds a Server.
type Option func(*options)

type options struct {
	now           func() time.Time
	logger        *slog.Logger
	background    bool
	failedLogins  *FailedLogins
	clientAddress func(*http.Request) string
}

// WithClock makes the server read time from now instead of time.Now;
// tests use it to move through expiries and key rotations.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithoutBackground disables the maintenance goroutine (sweeping and key
// scheduling); the caller runs Maintain itself.
func WithoutBackground() Option { return func(o *options) { o.background = false } }

// WithFailedLogins makes the server count failed logins in counts, shared
// with the other servers over the same store (default: counts of its own).
func WithFailedLogins(counts *FailedLogins) Option {
	return func(o *options) { o.failedLogins = counts }
}

// WithClientAddress makes the server take a request's client address (for
// the login throttle and the logs) from address instead of the
// connection's peer. A host that knows which proxies to trust provides it
// (Caddy's client_ip); forwarded headers are never read otherwise, since
// anyone can send them.
func WithClientAddress(address func(*http.Request) string) Option {
	return func(o *options) { o.clientAddress = address }
}
