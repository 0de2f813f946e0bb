package conformance

import (
	"context"
	"testing"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

const idemKey = "6c1b7a8e-3f0d-4b7c-9a51-2e8f6d4c0b93"

func idempotentCreate(ctx context.Context, s keystore.Store, key, fingerprint string) (keystore.Client, string, bool, error) {
	return s.Create(ctx, keystore.NewClient{
		Name:        "retried",
		Scopes:      []string{"pos"},
		Idempotency: &keystore.Idempotency{Key: key, Fingerprint: []byte(fingerprint)},
	})
}

func testIdempotentCreateReplays(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	first, key, replayed, err := idempotentCreate(ctx, s, idemKey, "body-1")
	if err != nil || replayed {
		t.Fatalf("first create: replayed %v, %v", replayed, err)
	}
	clock.Advance(keystore.IdempotencyTTL / 2)
	again, againKey, replayed, err := idempotentCreate(ctx, s, idemKey, "body-1")
	if err != nil || !replayed {
		t.Fatalf("retry: replayed %v, %v", replayed, err)
	}
	if againKey != key {
		t.Fatal("retry returned another key")
	}
	sameClient(t, again, first)
	if ids := listIDs(t, s, "", 0); len(ids) != 1 {
		t.Fatalf("retry made a second client: %v", ids)
	}
	if n := len(auditEntries(t, s, "")); n != 1 {
		t.Fatalf("%d audit entries, want the one create", n)
	}
	lookup(t, s, key)
}

func testIdempotentCreateConflicts(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, _, _, err := idempotentCreate(ctx, s, idemKey, "body-1")
	if err != nil {
		t.Fatal(err)
	}
	_, key, replayed, err := idempotentCreate(ctx, s, idemKey, "body-2")
	wantErr(t, "same idempotency key, other request", err, keystore.ErrConflict)
	if key != "" || replayed {
		t.Fatal("a conflicting retry returned a key")
	}

	// Once the key was rotated, the sealed key opens nothing: no replay.
	if _, _, err := s.Rotate(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, key, _, err = idempotentCreate(ctx, s, idemKey, "body-1")
	wantErr(t, "replay after rotation", err, keystore.ErrConflict)
	if key != "" {
		t.Fatal("replay after rotation returned a key")
	}

	const deletedKey = "0d6f1c2e-aaaa-4bbb-8ccc-deadbeef0001"
	d, _, _, err := idempotentCreate(ctx, s, deletedKey, "body-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = idempotentCreate(ctx, s, deletedKey, "body-1")
	wantErr(t, "replay after delete", err, keystore.ErrConflict)
	if ids := listIDs(t, s, "", 0); len(ids) != 1 {
		t.Fatalf("conflicts created clients: %v", ids)
	}
}

func testIdempotencyIsPerActor(t *testing.T, s keystore.Store, clock *Clock) {
	c1, key1, _, err := idempotentCreate(adminContext(t), s, idemKey, "body-1")
	if err != nil {
		t.Fatal(err)
	}
	bob := keystore.WithActor(t.Context(), keystore.Actor{Subject: "bob", ClientID: "admin-portal"})
	c2, key2, replayed, err := idempotentCreate(bob, s, idemKey, "body-1")
	if err != nil || replayed {
		t.Fatalf("another actor's create with the same idempotency key: replayed %v, %v", replayed, err)
	}
	if c2.ID == c1.ID || key2 == key1 {
		t.Fatal("another actor was given the first actor's client or key")
	}
}

func testIdempotencyExpires(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c1, _, _, err := idempotentCreate(ctx, s, idemKey, "body-1")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(keystore.IdempotencyTTL)
	c2, _, replayed, err := idempotentCreate(ctx, s, idemKey, "body-2")
	if err != nil || replayed || c2.ID == c1.ID {
		t.Fatalf("create after the idempotency record expired: %s replayed %v, %v", c2.ID, replayed, err)
	}
	// The new record answers retries from now on.
	c3, _, replayed, err := idempotentCreate(ctx, s, idemKey, "body-2")
	if err != nil || !replayed || c3.ID != c2.ID {
		t.Fatalf("retry of the second create: %s replayed %v, %v", c3.ID, replayed, err)
	}
}
