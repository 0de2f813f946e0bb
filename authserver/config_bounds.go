package authserver

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of the configurable values. They keep a typo ("5" for "5m", an
// extra zero) from making codes live for days or locking logins forever;
// errors name the option as the Caddyfile and JSON spell it.
const (
	maxMaxTokenLifetime      = 7 * 24 * time.Hour
	maxRefreshTokenLifetime  = 365 * 24 * time.Hour
	minCodeLifetime          = 10 * time.Second
	maxCodeLifetime          = 10 * time.Minute // RFC 6749 section 4.1.2
	maxAuthRequestLifetime   = 24 * time.Hour
	maxSessionLifetime       = 30 * 24 * time.Hour
	minKeyRotationInterval   = time.Hour
	maxKeyRotationInterval   = 365 * 24 * time.Hour
	maxMaintenanceInterval   = time.Hour
	maxThrottleWindow        = 24 * time.Hour
	maxThrottlePerAccount    = 1000
	maxThrottlePerAddress    = 100_000
	maxScopeDescriptions     = 100
	maxScopeDescriptionRunes = 200
)

// checkNotNegative refuses negative values, which the zero-means-default
// rule would otherwise turn into defaults without a word.
func (c Config) checkNotNegative() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"access_token_lifetime", c.AccessTokenLifetime},
		{"id_token_lifetime", c.IDTokenLifetime},
		{"refresh_token_lifetime", c.RefreshTokenLifetime},
		{"code_lifetime", c.CodeLifetime},
		{"auth_request_lifetime", c.AuthRequestLifetime},
		{"session_lifetime", c.SessionLifetime},
		{"max_token_lifetime", c.MaxTokenLifetime},
		{"key_rotation_interval", c.KeyRotationInterval},
		{"key_publish_lead", c.KeyPublishLead},
		{"maintenance_interval", c.MaintenanceInterval},
		{"login_throttle window", c.LoginThrottle.Window},
	} {
		if d.value < 0 {
			return fmt.Errorf("%s %s must not be negative", d.name, d.value)
		}
	}
	if c.LoginThrottle.PerAccount < 0 || c.LoginThrottle.PerAddress < 0 {
		return fmt.Errorf("login_throttle limits must not be negative")
	}
	return nil
}

// checkBounds checks c, defaults filled in, against the bounds above.
func (c Config) checkBounds() error {
	for _, d := range []struct {
		name          string
		value, lo, hi time.Duration
		hiName        string // the option that is the upper bound, if any
	}{
		{name: "max_token_lifetime", value: c.MaxTokenLifetime, lo: time.Minute, hi: maxMaxTokenLifetime},
		{name: "access_token_lifetime", value: c.AccessTokenLifetime, lo: time.Minute, hi: c.MaxTokenLifetime, hiName: "max_token_lifetime"},
		{name: "id_token_lifetime", value: c.IDTokenLifetime, lo: time.Minute, hi: c.MaxTokenLifetime, hiName: "max_token_lifetime"},
		{name: "refresh_token_lifetime", value: c.RefreshTokenLifetime, lo: time.Minute, hi: maxRefreshTokenLifetime},
		{name: "code_lifetime", value: c.CodeLifetime, lo: minCodeLifetime, hi: maxCodeLifetime},
		{name: "auth_request_lifetime", value: c.AuthRequestLifetime, lo: time.Minute, hi: maxAuthRequestLifetime},
		{name: "session_lifetime", value: c.SessionLifetime, lo: time.Minute, hi: maxSessionLifetime},
		{name: "key_rotation_interval", value: c.KeyRotationInterval, lo: minKeyRotationInterval, hi: maxKeyRotationInterval},
		{name: "key_publish_lead", value: c.KeyPublishLead, lo: time.Minute, hi: c.KeyRotationInterval},
		{name: "maintenance_interval", value: c.MaintenanceInterval, lo: time.Second, hi: maxMaintenanceInterval},
		{name: "login_throttle window", value: c.LoginThrottle.Window, lo: time.Minute, hi: maxThrottleWindow},
	} {
		switch {
		case d.value < d.lo:
			return fmt.Errorf("%s %s is shorter than the minimum %s", d.name, d.value, d.lo)
		case d.value > d.hi && d.hiName != "":
			return fmt.Errorf("%s %s must not exceed %s (%s)", d.name, d.value, d.hiName, d.hi)
		case d.value > d.hi:
			return fmt.Errorf("%s %s is longer than the maximum %s", d.name, d.value, d.hi)
		}
	}
	if c.KeyPublishLead >= c.KeyRotationInterval {
		return fmt.Errorf("key_publish_lead %s must be shorter than key_rotation_interval %s", c.KeyPublishLead, c.KeyRotationInterval)
	}
	if n := c.LoginThrottle.PerAccount; n > maxThrottlePerAccount {
		return fmt.Errorf("login_throttle per_account %d is more than the maximum %d", n, maxThrottlePerAccount)
	}
	if n := c.LoginThrottle.PerAddress; n > maxThrottlePerAddress {
		return fmt.Errorf("login_throttle per_address %d is more than the maximum %d", n, maxThrottlePerAddress)
	}
	return checkScopeDescriptions(c.ScopeDescriptions)
}

// checkScopeDescriptions checks the operator's consent-page wording.
func checkScopeDescriptions(descriptions map[string]string) error {
	if len(descriptions) > maxScopeDescriptions {
		return fmt.Errorf("scope_descriptions: %d entries, at most %d", len(descriptions), maxScopeDescriptions)
	}
	for scope, text := range descriptions {
		if !scopePattern.MatchString(scope) {
			return fmt.Errorf("scope_descriptions: %q is not a valid scope", scope)
		}
		n := utf8.RuneCountInString(text)
		if n == 0 || n > maxScopeDescriptionRunes || !utf8.ValidString(text) {
			return fmt.Errorf("scope_descriptions: the description of %s must have 1-%d characters", scope, maxScopeDescriptionRunes)
		}
		for _, r := range text {
			if unicode.IsControl(r) {
				return fmt.Errorf("scope_descriptions: the description of %s contains a control character", scope)
			}
		}
	}
	return nil
}
