// Package keystore keeps Gatehouse's API-key clients: who they are, what
// they may do and the hashes of their keys. Plaintext keys exist only in
// the answer to Create and Rotate.
//
// Store is the interface every backend implements (bbolt today; etcd is
// planned) and package conformance holds the suite each must pass. The
// gateway reaches a store through the process-wide pool (pool.go), which
// adds the lookup cache and keeps one open handle per file across
// `caddy reload`.
package keystore

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"
	"unsafe"
)

// Errors reported by every backend; callers test them with errors.Is.
var (
	// ErrNotFound: no client has that id (or that key hash).
	ErrNotFound = errors.New("client not found")
	// ErrInvalid: the request is malformed (empty name, bad scope, expiry in the past ...).
	ErrInvalid = errors.New("invalid client data")
	// ErrConflict: the change contradicts the client's state, or an
	// idempotency key was reused with a different request.
	ErrConflict = errors.New("conflicting change")
	// ErrLocked: the store's file is held by another process.
	ErrLocked = errors.New("key store is in use by another process")
)

// Status is a client's administrative state.
type Status string

// Client states.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
)

// Hash is the SHA-256 of a plaintext API key, the only form in which keys
// are stored. Keys carry 256 bits of randomness, so a fast hash is enough:
// there is nothing to brute-force.
type Hash [sha256.Size]byte

// HashKey returns the stored form of a plaintext key.
func HashKey(plaintext string) Hash { return sha256.Sum256(readOnlyBytes(plaintext)) }

// readOnlyBytes views s as bytes without copying it, for functions that
// only read their input (hashes, checksums): this runs on every request,
// and converting a key to []byte would copy it each time.
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Key is the non-secret description of one stored key.
type Key struct {
	// Prefix is the key's display prefix, e.g. "rsa_live_Ab3dE9xQ".
	Prefix string
	// Hash of the whole key.
	Hash Hash
	// CreatedAt is when the key was issued.
	CreatedAt time.Time
}

// RetiringKey is a rotated-out key still accepted until ExpiresAt.
type RetiringKey struct {
	Key
	// ExpiresAt ends the grace period.
	ExpiresAt time.Time
}

// Client is an API-key client as stored.
type Client struct {
	ID         string
	Name       string
	Scopes     []string
	Status     Status
	Metadata   map[string]string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never used (or not yet flushed)
	// Key is the current key.
	Key Key
	// Retiring is the previous key during a rotation's grace period; nil otherwise.
	Retiring *RetiringKey
}

// KeySlot says which of a client's keys matched a lookup.
type KeySlot int

// Key slots.
const (
	SlotCurrent KeySlot = iota
	SlotRetiring
)

// NewClient is what Create needs.
type NewClient struct {
	Name      string
	Scopes    []string
	Metadata  map[string]string
	ExpiresAt time.Time // zero: never
	// Idempotency, when set, makes a retried Create return the first
	// result (client and key) instead of creating a second client.
	Idempotency *Idempotency
}

// Idempotency identifies a retried request.
type Idempotency struct {
	// Key is the caller's Idempotency-Key header value.
	Key string
	// Fingerprint identifies the request body; a retry with the same Key
	// but another Fingerprint is refused with ErrConflict.
	Fingerprint []byte
}

// ClientUpdate changes a client's attributes; nil fields stay as they are.
type ClientUpdate struct {
	Name      *string
	Scopes    *[]string
	Metadata  *map[string]string
	ExpiresAt *time.Time // a pointer to the zero time clears the expiry
}

// ListOptions pages through clients in creation order.
type ListOptions struct {
	// Status filters by state; empty lists all.
	Status Status
	// After is the cursor from the previous page; empty starts at the beginning.
	After string
	// Limit caps the page size (backend default and maximum apply).
	Limit int
}

// Page is one page of clients.
type Page struct {
	Clients []Client
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// Actor is who made a change, recorded in the audit log.
type Actor struct {
	Subject    string
	ClientID   string
	RemoteAddr string
}

// AuditEntry records one change.
type AuditEntry struct {
	ID     string
	Time   time.Time
	Actor  Actor
	Action string // "create", "rotate", "update", "disable", "enable", "delete"
	Target string // client id
	// Detail holds non-secret facts of the change, e.g. grace_period_seconds.
	Detail map[string]string
}

// AuditQuery pages through the audit log, newest first.
type AuditQuery struct {
	Target string // empty: all clients
	After  string // cursor
	Limit  int
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Entries []AuditEntry
	Next    string
}

// Store is the interface every key-store backend implements. Each
// mutation is one atomic, durable change: when it returns nil the change
// and its audit entry survive a crash; when it returns an error nothing
// changed. The actor recorded in the audit entry comes from the context
// (WithActor); without one the change is recorded as made by "system".
type Store interface {
	// Create stores a new active client and returns it with its plaintext
	// key, which is never available again (except to a retry carrying the
	// same Idempotency key, which gets the same result with replayed=true).
	Create(ctx context.Context, c NewClient) (client Client, plaintextKey string, replayed bool, err error)
	// Get returns the client with id.
	Get(ctx context.Context, id string) (Client, error)
	// List returns a page of clients in creation order.
	List(ctx context.Context, opts ListOptions) (Page, error)
	// Update changes a client's name, scopes, metadata or expiry.
	Update(ctx context.Context, id string, u ClientUpdate) (Client, error)
	// Rotate issues a new key. The old key stays valid for grace (zero:
	// refused at once); a key still retiring from an earlier rotation is
	// dropped.
	Rotate(ctx context.Context, id string, grace time.Duration) (client Client, plaintextKey string, err error)
	// SetStatus enables or disables a client.
	SetStatus(ctx context.Context, id string, s Status) (Client, error)
	// Delete removes a client and its keys.
	Delete(ctx context.Context, id string) error
	// Lookup finds the client owning the key with hash h, and which of its
	// keys matched. A retiring key is not found from the instant its grace
	// period ends. It does not judge the client's status or expiry: the
	// caller does.
	Lookup(ctx context.Context, h Hash) (Client, KeySlot, error)
	// RecordUse stores last-used times in one write; times older than the
	// stored ones and unknown ids are ignored. It is not audited.
	RecordUse(ctx context.Context, used map[string]time.Time) error
	// Audit returns a page of the audit log.
	Audit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// KeyFormat is the format of the store's keys, against which the
	// gateway checks a candidate before any lookup.
	KeyFormat() KeyFormat
	// Close releases the backend.
	Close() error
}

type actorKey struct{}

// WithActor returns a context that records a as the author of changes.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor recorded in ctx, or the "system" actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Subject: "system"}
}
