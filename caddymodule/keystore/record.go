package keystore

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// clientRecord is a client as the bbolt backend stores it (JSON, so that
// fields can be added without a migration). It is separate from Client so
// that the stored shape does not change when the Go API does.
type clientRecord struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Scopes     []string          `json:"scopes"`
	Status     Status            `json:"status"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ExpiresAt  time.Time         `json:"expires_at,omitzero"`
	LastUsedAt time.Time         `json:"last_used_at,omitzero"`
	Key        keyRecord         `json:"key"`
	Retiring   *retiringRecord   `json:"retiring,omitempty"`
}

// keyRecord is a stored key: never the key, only its hash.
type keyRecord struct {
	Prefix    string    `json:"prefix"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// retiringRecord is a rotated-out key in its grace period.
type retiringRecord struct {
	keyRecord
	ExpiresAt time.Time `json:"expires_at"`
}

func encodeClient(r *clientRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding client %s: %w", r.ID, err)
	}
	return b, nil
}

func decodeClient(b []byte) (*clientRecord, error) {
	var r clientRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding stored client: %w", err)
	}
	if len(r.Key.Hash) != len(Hash{}) || r.Retiring != nil && len(r.Retiring.Hash) != len(Hash{}) {
		return nil, fmt.Errorf("decoding stored client %s: key hash has the wrong length", r.ID)
	}
	return &r, nil
}

// retiringExpired reports whether r's retiring key, if any, has reached
// the end of its grace period at now. From that instant the key is gone
// for every reader, whether or not its index entry has been swept yet.
func (r *clientRecord) retiringExpired(now time.Time) bool {
	return r.Retiring != nil && !now.Before(r.Retiring.ExpiresAt)
}

// matches reports, in constant time, whether slot's key of r has hash h.
// Lookups go through the hash index; this re-check means a damaged index
// can never let a key stand for another.
func (r *clientRecord) matches(h Hash, slot KeySlot) bool {
	var stored []byte
	switch {
	case slot == SlotCurrent:
		stored = r.Key.Hash
	case slot == SlotRetiring && r.Retiring != nil:
		stored = r.Retiring.Hash
	default:
		return false
	}
	return subtle.ConstantTimeCompare(stored, h[:]) == 1
}

// client returns the public view of r at now: a retiring key past its
// grace period is left out.
func (r *clientRecord) client(now time.Time) Client {
	c := Client{
		ID:         r.ID,
		Name:       r.Name,
		Scopes:     slices.Clone(r.Scopes),
		Status:     r.Status,
		Metadata:   maps.Clone(r.Metadata),
		CreatedAt:  r.CreatedAt,
		UpdatedAt:  r.UpdatedAt,
		ExpiresAt:  r.ExpiresAt,
		LastUsedAt: r.LastUsedAt,
		Key:        r.Key.key(),
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	if r.Retiring != nil && !r.retiringExpired(now) {
		c.Retiring = &RetiringKey{Key: r.Retiring.key(), ExpiresAt: r.Retiring.ExpiresAt}
	}
	return c
}

func (k keyRecord) key() Key {
	var h Hash
	copy(h[:], k.Hash)
	return Key{Prefix: k.Prefix, Hash: h, CreatedAt: k.CreatedAt}
}

func newKeyRecord(f KeyFormat, plaintext string, now time.Time) keyRecord {
	h := HashKey(plaintext)
	return keyRecord{Prefix: f.DisplayPrefix(plaintext), Hash: h[:], CreatedAt: now}
}

// storedTime drops the monotonic clock reading and the location, so that
// what a caller passes in compares Equal to what it reads back.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}
