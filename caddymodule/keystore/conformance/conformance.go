// Package conformance is the test suite every keystore.Store backend must
// pass, so that the gateway, the admin API and the CLI behave the same
// whichever backend holds the keys. A backend's own tests call Run with a
// function that opens a fresh, empty store on the clock the suite gives.
package conformance

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// Opener opens a fresh, empty store whose clock is now. The suite closes
// it when the test ends.
type Opener func(t *testing.T, now func() time.Time) keystore.Store

// Run runs the whole suite against the backend that open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		run  func(t *testing.T, s keystore.Store, clock *Clock)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"CreateRefusesInvalidData", testCreateRefusesInvalidData},
		{"NotFound", testNotFound},
		{"ListPagesInCreationOrder", testListPagesInCreationOrder},
		{"ListDefaultPageSize", testListDefaultPageSize},
		{"ListFiltersByStatus", testListFiltersByStatus},
		{"Update", testUpdate},
		{"UpdateRefusesInvalidData", testUpdateRefusesInvalidData},
		{"RotateWithoutGrace", testRotateWithoutGrace},
		{"RotateWithGrace", testRotateWithGrace},
		{"RotateDropsEarlierRetiringKey", testRotateDropsEarlierRetiringKey},
		{"RotateRefusesInvalidGrace", testRotateRefusesInvalidGrace},
		{"SetStatus", testSetStatus},
		{"Delete", testDelete},
		{"RecordUse", testRecordUse},
		{"AuditRecordsEveryChange", testAuditRecordsEveryChange},
		{"AuditFiltersAndPages", testAuditFiltersAndPages},
		{"AuditHoldsNoSecret", testAuditHoldsNoSecret},
		{"IdempotentCreateReplays", testIdempotentCreateReplays},
		{"IdempotentCreateConflicts", testIdempotentCreateConflicts},
		{"IdempotencyIsPerActor", testIdempotencyIsPerActor},
		{"IdempotencyExpires", testIdempotencyExpires},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
			s := open(t, clock.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("closing store: %v", err)
				}
			})
			tt.run(t, s, clock)
		})
	}
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// admin is the actor of the suite's changes.
var admin = keystore.Actor{Subject: "alice", ClientID: "admin-portal", RemoteAddr: "192.0.2.10:41000"}

func adminContext(t *testing.T) context.Context {
	return keystore.WithActor(t.Context(), admin)
}

// create makes a client with a name and scopes, failing the test on error.
func create(t *testing.T, s keystore.Store, name string, scopes ...string) (keystore.Client, string) {
	t.Helper()
	c, key, replayed, err := s.Create(adminContext(t), keystore.NewClient{Name: name, Scopes: scopes})
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	if replayed {
		t.Fatalf("Create(%q) without idempotency key reported a replay", name)
	}
	return c, key
}

func get(t *testing.T, s keystore.Store, id string) keystore.Client {
	t.Helper()
	c, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return c
}

// lookupRepeats is how often lookup and refused ask: a store that caches
// answers must give the same one every time.
const lookupRepeats = 3

// lookup returns the client and slot that key finds, failing on error.
func lookup(t *testing.T, s keystore.Store, key string) (keystore.Client, keystore.KeySlot) {
	t.Helper()
	var (
		c    keystore.Client
		slot keystore.KeySlot
	)
	for i := range lookupRepeats {
		got, gotSlot, err := s.Lookup(t.Context(), keystore.HashKey(key))
		if err != nil {
			t.Fatalf("Lookup %d of a key that should be found: %v", i+1, err)
		}
		if i > 0 && (got.ID != c.ID || gotSlot != slot || got.Status != c.Status || !got.UpdatedAt.Equal(c.UpdatedAt)) {
			t.Fatalf("repeated Lookup answered %s/%v/%s, first %s/%v/%s", got.ID, gotSlot, got.Status, c.ID, slot, c.Status)
		}
		c, slot = got, gotSlot
	}
	return c, slot
}

// refused asserts that key finds nothing.
func refused(t *testing.T, s keystore.Store, key, why string) {
	t.Helper()
	for range lookupRepeats {
		if c, _, err := s.Lookup(t.Context(), keystore.HashKey(key)); !errors.Is(err, keystore.ErrNotFound) {
			t.Fatalf("%s: Lookup = (%s, %v), want ErrNotFound", why, c.ID, err)
		}
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// sameClient compares the stored state of two clients field by field.
func sameClient(t *testing.T, got, want keystore.Client) {
	t.Helper()
	switch {
	case got.ID != want.ID:
		t.Fatalf("ID %q, want %q", got.ID, want.ID)
	case got.Name != want.Name:
		t.Fatalf("Name %q, want %q", got.Name, want.Name)
	case !slices.Equal(got.Scopes, want.Scopes):
		t.Fatalf("Scopes %q, want %q", got.Scopes, want.Scopes)
	case got.Status != want.Status:
		t.Fatalf("Status %q, want %q", got.Status, want.Status)
	case len(got.Metadata) != len(want.Metadata):
		t.Fatalf("Metadata %v, want %v", got.Metadata, want.Metadata)
	case !got.CreatedAt.Equal(want.CreatedAt), !got.UpdatedAt.Equal(want.UpdatedAt),
		!got.ExpiresAt.Equal(want.ExpiresAt), !got.LastUsedAt.Equal(want.LastUsedAt):
		t.Fatalf("times differ:\n got %+v\nwant %+v", got, want)
	case got.Key.Hash != want.Key.Hash || got.Key.Prefix != want.Key.Prefix || !got.Key.CreatedAt.Equal(want.Key.CreatedAt):
		t.Fatalf("Key %+v, want %+v", got.Key, want.Key)
	case (got.Retiring == nil) != (want.Retiring == nil):
		t.Fatalf("Retiring %+v, want %+v", got.Retiring, want.Retiring)
	case got.Retiring != nil && (got.Retiring.Hash != want.Retiring.Hash || !got.Retiring.ExpiresAt.Equal(want.Retiring.ExpiresAt)):
		t.Fatalf("Retiring %+v, want %+v", got.Retiring, want.Retiring)
	}
	for k, v := range want.Metadata {
		if got.Metadata[k] != v {
			t.Fatalf("Metadata %v, want %v", got.Metadata, want.Metadata)
		}
	}
}

// auditEntries returns the whole audit log, newest first.
func auditEntries(t *testing.T, s keystore.Store, target string) []keystore.AuditEntry {
	t.Helper()
	var all []keystore.AuditEntry
	q := keystore.AuditQuery{Target: target, Limit: keystore.MaxPageSize}
	for {
		page, err := s.Audit(t.Context(), q)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		all = append(all, page.Entries...)
		if page.Next == "" {
			return all
		}
		q.After = page.Next
	}
}

// listIDs returns the ids of every client with status, in list order.
func listIDs(t *testing.T, s keystore.Store, status keystore.Status, limit int) []string {
	t.Helper()
	var ids []string
	opts := keystore.ListOptions{Status: status, Limit: limit}
	for {
		page, err := s.List(t.Context(), opts)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if limit > 0 && len(page.Clients) > limit {
			t.Fatalf("page of %d clients, limit %d", len(page.Clients), limit)
		}
		for _, c := range page.Clients {
			ids = append(ids, c.ID)
		}
		if page.Next == "" {
			return ids
		}
		opts.After = page.Next
	}
}
