package conformance

import (
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func testRotateWithoutGrace(t *testing.T, s keystore.Store, clock *Clock) {
	c, oldKey := create(t, s, "terminal", "pos")
	clock.Advance(time.Hour)
	got, newKey, err := s.Rotate(adminContext(t), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if newKey == oldKey || s.KeyFormat().Check(newKey) != nil {
		t.Fatal("rotation did not issue a fresh well-formed key")
	}
	want := c
	want.UpdatedAt = clock.Now()
	want.Key = keystore.Key{Prefix: s.KeyFormat().DisplayPrefix(newKey), Hash: keystore.HashKey(newKey), CreatedAt: clock.Now()}
	sameClient(t, got, want)
	sameClient(t, get(t, s, c.ID), want)

	refused(t, s, oldKey, "old key right after a rotation without grace")
	found, slot := lookup(t, s, newKey)
	if slot != keystore.SlotCurrent {
		t.Fatalf("new key in slot %v", slot)
	}
	sameClient(t, found, want)
}

func testRotateWithGrace(t *testing.T, s keystore.Store, clock *Clock) {
	c, oldKey := create(t, s, "terminal", "pos")
	clock.Advance(time.Hour)
	const grace = 90 * time.Second
	got, newKey, err := s.Rotate(adminContext(t), c.ID, grace)
	if err != nil {
		t.Fatal(err)
	}
	end := clock.Now().Add(grace)
	if got.Retiring == nil || got.Retiring.Hash != keystore.HashKey(oldKey) || !got.Retiring.ExpiresAt.Equal(end) ||
		got.Retiring.Prefix != c.Key.Prefix {
		t.Fatalf("Retiring = %+v, want the old key until %v", got.Retiring, end)
	}
	sameClient(t, get(t, s, c.ID), got)

	old, slot := lookup(t, s, oldKey)
	if slot != keystore.SlotRetiring || old.ID != c.ID {
		t.Fatalf("old key during grace: client %s slot %v", old.ID, slot)
	}
	if _, slot := lookup(t, s, newKey); slot != keystore.SlotCurrent {
		t.Fatalf("new key in slot %v", slot)
	}

	clock.Set(end.Add(-time.Nanosecond))
	if _, slot := lookup(t, s, oldKey); slot != keystore.SlotRetiring {
		t.Fatal("old key refused before its grace period ended")
	}
	clock.Set(end)
	refused(t, s, oldKey, "old key at the instant its grace period ends")
	if r := get(t, s, c.ID).Retiring; r != nil {
		t.Fatalf("ended grace period still reported: %+v", r)
	}
	lookup(t, s, newKey)

	// A later mutation of the client must not bring the old key back.
	name := "renamed"
	if _, err := s.Update(adminContext(t), c.ID, keystore.ClientUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	clock.Set(end.Add(-time.Second)) // even if the clock steps back
	refused(t, s, oldKey, "old key after a mutation past its grace period")
}

func testRotateDropsEarlierRetiringKey(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, key1 := create(t, s, "terminal")
	_, key2, err := s.Rotate(ctx, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	got, key3, err := s.Rotate(ctx, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, s, key1, "key retiring from an earlier rotation")
	if _, slot := lookup(t, s, key2); slot != keystore.SlotRetiring {
		t.Fatal("previous key is not retiring")
	}
	if got.Retiring == nil || got.Retiring.Hash != keystore.HashKey(key2) {
		t.Fatalf("Retiring = %+v, want the second key", got.Retiring)
	}
	got, key4, err := s.Rotate(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	refused(t, s, key2, "retiring key after a rotation without grace")
	refused(t, s, key3, "current key after a rotation without grace")
	if got.Retiring != nil {
		t.Fatalf("Retiring = %+v after a rotation without grace", got.Retiring)
	}
	lookup(t, s, key4)
}

func testRotateRefusesInvalidGrace(t *testing.T, s keystore.Store, clock *Clock) {
	c, key := create(t, s, "terminal")
	for _, grace := range []time.Duration{-time.Second, keystore.MaxRotationGrace + time.Second} {
		_, newKey, err := s.Rotate(adminContext(t), c.ID, grace)
		wantErr(t, "Rotate with grace "+grace.String(), err, keystore.ErrInvalid)
		if newKey != "" {
			t.Fatal("a refused rotation returned a key")
		}
	}
	sameClient(t, get(t, s, c.ID), c)
	lookup(t, s, key)
	if n := len(auditEntries(t, s, c.ID)); n != 1 {
		t.Fatalf("refused rotations were audited (%d entries)", n)
	}
}
