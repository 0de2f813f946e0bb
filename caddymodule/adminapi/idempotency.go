package adminapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header).
const (
	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed marks the answer to a retried create.
	headerReplayed = "Idempotent-Replayed"
)

// idempotencyKey returns the request's Idempotency-Key, or "" when it has
// none. The draft defines the value as a structured-field string, so
// surrounding quotes are accepted and removed; a bare token works too.
func idempotencyKey(h http.Header) (string, *authn.Failure) {
	values := h.Values(headerIdempotencyKey)
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", errInvalid("Idempotency-Key must be sent once")
	}
	key := values[0]
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if len(key) < keystore.MinIdempotencyKeyLength || len(key) > keystore.MaxIdempotencyKeyLength ||
		strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
		return "", errInvalid(fmt.Sprintf("Idempotency-Key must be %d to %d visible ASCII characters (a UUID will do)",
			keystore.MinIdempotencyKeyLength, keystore.MaxIdempotencyKeyLength))
	}
	return key, nil
}

// createFingerprint identifies a create request for idempotency: the
// SHA-256 of its canonical form, the decoded request re-encoded (field
// order and formatting do not matter; metadata keys are sorted). The store
// keeps idempotency records per actor, so another admin's request with the
// same Idempotency-Key is a different request, not a replay.
func createFingerprint(c keystore.NewClient) []byte {
	var expires string
	if !c.ExpiresAt.IsZero() {
		expires = c.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	canonical, _ := json.Marshal(struct {
		Name      string            `json:"name"`
		Scopes    []string          `json:"scopes"`
		ExpiresAt string            `json:"expires_at"`
		Metadata  map[string]string `json:"metadata"`
	}{c.Name, c.Scopes, expires, c.Metadata})
	sum := sha256.Sum256(canonical)
	return sum[:]
}
