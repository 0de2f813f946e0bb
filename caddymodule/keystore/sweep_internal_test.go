package keystore

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func openTestStore(t *testing.T, clock *testClock) *BoltStore {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "keys.db"), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Sweep removes what ended grace periods and expired idempotency records
// leave behind, and nothing else.
func TestSweepRemovesOnlyWhatExpired(t *testing.T) {
	clock := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTestStore(t, clock)
	ctx := t.Context()
	short, _, _, err := s.Create(ctx, NewClient{Name: "short", Idempotency: &Idempotency{Key: "aaaaaaaaaaaaaaaa-1", Fingerprint: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	long, _, _, err := s.Create(ctx, NewClient{Name: "long"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Rotate(ctx, short.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Rotate(ctx, long.ID, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, s, bucketKeyHashes); n != 4 {
		t.Fatalf("%d indexed keys, want 4", n)
	}
	if removed, err := s.Sweep(ctx); err != nil || removed != 0 {
		t.Fatalf("early sweep removed %d, %v", removed, err)
	}

	clock.Advance(time.Hour)
	if removed, err := s.Sweep(ctx); err != nil || removed != 1 {
		t.Fatalf("sweep after one grace period removed %d, %v", removed, err)
	}
	if n := entries(t, s, bucketKeyHashes); n != 3 {
		t.Fatalf("%d indexed keys after sweep, want 3", n)
	}
	if n := entries(t, s, bucketRetiring); n != 1 {
		t.Fatalf("%d scheduled grace ends after sweep, want 1", n)
	}
	if c, _ := s.Get(ctx, long.ID); c.Retiring == nil {
		t.Fatal("sweep ended a grace period early")
	}

	clock.Advance(IdempotencyTTL)
	if removed, err := s.Sweep(ctx); err != nil || removed != 2 {
		t.Fatalf("sweep after a day removed %d, %v", removed, err)
	}
	if n := entries(t, s, bucketIdempotency); n != 0 {
		t.Fatalf("%d idempotency records after their expiry", n)
	}
	if n := entries(t, s, bucketKeyHashes); n != 2 {
		t.Fatalf("%d indexed keys, want the 2 current ones", n)
	}
}

// A mutation of a client drops its ended rotation at once, Sweep or not.
func TestMutationDropsEndedRotation(t *testing.T) {
	clock := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTestStore(t, clock)
	c, _, _, err := s.Create(t.Context(), NewClient{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Rotate(t.Context(), c.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := s.SetStatus(t.Context(), c.ID, StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, s, bucketKeyHashes); n != 1 {
		t.Fatalf("%d indexed keys, want only the current one", n)
	}
	if n := entries(t, s, bucketRetiring); n != 0 {
		t.Fatalf("%d scheduled grace ends, want none", n)
	}
}

func TestListCapsThePageSize(t *testing.T) {
	s := openTestStore(t, &testClock{t: time.Now()})
	loadClients(t, s, MaxPageSize+20)
	page, err := s.List(t.Context(), ListOptions{Limit: 10 * MaxPageSize})
	if err != nil || len(page.Clients) != MaxPageSize || page.Next == "" {
		t.Fatalf("%d clients, next %q, %v", len(page.Clients), page.Next, err)
	}
	page, err = s.List(t.Context(), ListOptions{After: page.Next, Status: StatusActive, Limit: MaxPageSize})
	if err != nil || len(page.Clients) != 20 || page.Next != "" {
		t.Fatalf("rest: %d clients, next %q, %v", len(page.Clients), page.Next, err)
	}
	if _, err := s.List(t.Context(), ListOptions{After: encodeCursor("au_" + newRawID(time.Now(), rawID{}).String())}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("List with an audit cursor: %v", err)
	}
}
