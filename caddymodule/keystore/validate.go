package keystore

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on client data. Each is checked before anything is written; a
// violation is reported as ErrInvalid and changes nothing.
const (
	// MaxNameLength is the longest client name, in characters.
	MaxNameLength = 200
	// MaxScopes is the most scopes a client may hold.
	MaxScopes = 100
	// MaxScopeLength is the longest scope token, in bytes.
	MaxScopeLength = 128
	// MaxMetadataEntries is the most metadata entries a client may hold.
	MaxMetadataEntries = 32
	// MaxMetadataKeyLength is the longest metadata key, in bytes.
	MaxMetadataKeyLength = 64
	// MaxMetadataValueLength is the longest metadata value, in bytes.
	MaxMetadataValueLength = 512
	// MaxRotationGrace is the longest grace period a rotation may give
	// the old key.
	MaxRotationGrace = 30 * 24 * time.Hour
)

func validateName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLength {
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, MaxNameLength)
	}
	if !printableText(name) {
		return fmt.Errorf("%w: name must be valid UTF-8 without control characters", ErrInvalid)
	}
	return nil
}

// validateScopes checks scopes against RFC 6749 section 3.3: each a
// non-empty run of %x21 / %x23-5B / %x5D-7E, no duplicates.
func validateScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return fmt.Errorf("%w: at most %d scopes", ErrInvalid, MaxScopes)
	}
	seen := make(map[string]struct{}, len(scopes))
	for i, s := range scopes {
		if len(s) == 0 || len(s) > MaxScopeLength {
			return fmt.Errorf("%w: scope %d must be 1 to %d characters", ErrInvalid, i+1, MaxScopeLength)
		}
		for j := 0; j < len(s); j++ {
			if c := s[j]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return fmt.Errorf("%w: scope %d has a character RFC 6749 does not allow in a scope", ErrInvalid, i+1)
			}
		}
		if _, dup := seen[s]; dup {
			return fmt.Errorf("%w: scope %q is listed twice", ErrInvalid, s)
		}
		seen[s] = struct{}{}
	}
	return nil
}

func validateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataEntries {
		return fmt.Errorf("%w: at most %d metadata entries", ErrInvalid, MaxMetadataEntries)
	}
	for k, v := range m {
		if len(k) == 0 || len(k) > MaxMetadataKeyLength || !printableText(k) {
			return fmt.Errorf("%w: metadata keys must be 1 to %d bytes of text", ErrInvalid, MaxMetadataKeyLength)
		}
		if len(v) > MaxMetadataValueLength || !utf8.ValidString(v) {
			return fmt.Errorf("%w: metadata value of %q must be at most %d bytes of UTF-8", ErrInvalid, k, MaxMetadataValueLength)
		}
	}
	return nil
}

// validateExpiry refuses an expiry that is not after now; zero means never.
func validateExpiry(expires, now time.Time) error {
	if !expires.IsZero() && !expires.After(now) {
		return fmt.Errorf("%w: expiry must be in the future", ErrInvalid)
	}
	return nil
}

func validateGrace(grace time.Duration) error {
	if grace < 0 || grace > MaxRotationGrace {
		return fmt.Errorf("%w: grace period must be between 0 and %s", ErrInvalid, MaxRotationGrace)
	}
	return nil
}

func validateNewClient(c NewClient, now time.Time) error {
	if err := validateName(c.Name); err != nil {
		return err
	}
	if err := validateScopes(c.Scopes); err != nil {
		return err
	}
	if err := validateMetadata(c.Metadata); err != nil {
		return err
	}
	if err := validateExpiry(c.ExpiresAt, now); err != nil {
		return err
	}
	if c.Idempotency != nil {
		return validateIdempotency(c.Idempotency)
	}
	return nil
}

func validateUpdate(u ClientUpdate, now time.Time) error {
	if u.Name != nil {
		if err := validateName(*u.Name); err != nil {
			return err
		}
	}
	if u.Scopes != nil {
		if err := validateScopes(*u.Scopes); err != nil {
			return err
		}
	}
	if u.Metadata != nil {
		if err := validateMetadata(*u.Metadata); err != nil {
			return err
		}
	}
	if u.ExpiresAt != nil {
		return validateExpiry(*u.ExpiresAt, now)
	}
	return nil
}

func validateStatus(s Status) error {
	if s != StatusActive && s != StatusDisabled {
		return fmt.Errorf("%w: status must be %q or %q", ErrInvalid, StatusActive, StatusDisabled)
	}
	return nil
}

// printableText reports whether s is valid UTF-8 without control
// characters, so that it cannot break a log line or a terminal.
func printableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
