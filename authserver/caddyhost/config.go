package caddyhost

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// LoginThrottle limits failed logins per account and per source address.
// A zero field means its default.
type LoginThrottle struct {
	// PerAccount failures within Window lock the account's logins until
	// the window passes. Default 5; at most 1000.
	PerAccount int `json:"per_account,omitempty"`
	// PerAddress failures within Window lock logins from the source
	// address. Default 20; at most 100000.
	PerAddress int `json:"per_address,omitempty"`
	// Window is the counting period. Default 15m; 1m to 24h.
	Window caddy.Duration `json:"window,omitempty"`
}

// demoCredentialsOff is the value of DemoCredentials that turns the demo
// credentials off, so that an environment variable can do so.
const demoCredentialsOff = "off"

// demoCredentialsFile is where demo credentials go, or "" for none.
func (h *Handler) demoCredentialsFile() string {
	if h.DemoCredentials == demoCredentialsOff {
		return ""
	}
	return h.DemoCredentials
}

// serverConfig is the authserver's config for these options.
func (h *Handler) serverConfig(keySecret []byte) authserver.Config {
	cfg := authserver.Config{
		Issuer:               h.Issuer,
		Audience:             h.Audience,
		ScopeFormat:          h.ScopeFormat,
		AccessTokenLifetime:  time.Duration(h.AccessTokenLifetime),
		IDTokenLifetime:      time.Duration(h.IDTokenLifetime),
		RefreshTokenLifetime: time.Duration(h.RefreshTokenLifetime),
		CodeLifetime:         time.Duration(h.CodeLifetime),
		AuthRequestLifetime:  time.Duration(h.AuthRequestLifetime),
		SessionLifetime:      time.Duration(h.SessionLifetime),
		MaxTokenLifetime:     time.Duration(h.MaxTokenLifetime),
		KeyRotationInterval:  time.Duration(h.KeyRotationInterval),
		KeyPublishLead:       time.Duration(h.KeyPublishLead),
		KeyEncryptionSecret:  keySecret,
		ScopeDescriptions:    h.ScopeDescriptions,
	}
	if t := h.LoginThrottle; t != nil {
		cfg.LoginThrottle = authserver.ThrottleConfig{PerAccount: t.PerAccount, PerAddress: t.PerAddress, Window: time.Duration(t.Window)}
	}
	return cfg
}
