package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func testCreateAndGet(t *testing.T, s keystore.Store, clock *Clock) {
	expires := clock.Now().Add(48 * time.Hour)
	c, key, replayed, err := s.Create(adminContext(t), keystore.NewClient{
		Name:      "POS terminal 7",
		Scopes:    []string{"pos.read", "pos.write"},
		Metadata:  map[string]string{"store": "0042"},
		ExpiresAt: expires,
	})
	if err != nil || replayed {
		t.Fatalf("Create = replayed %v, %v", replayed, err)
	}
	format := s.KeyFormat()
	if err := format.Check(key); err != nil {
		t.Fatalf("created key fails its store's format check: %v", err)
	}
	if !strings.HasPrefix(key, format.Prefix()) {
		t.Fatalf("key does not start with %q", format.Prefix())
	}
	now := clock.Now()
	want := keystore.Client{
		ID: c.ID, Name: "POS terminal 7", Scopes: []string{"pos.read", "pos.write"},
		Status: keystore.StatusActive, Metadata: map[string]string{"store": "0042"},
		CreatedAt: now, UpdatedAt: now, ExpiresAt: expires,
		Key: keystore.Key{Prefix: format.DisplayPrefix(key), Hash: keystore.HashKey(key), CreatedAt: now},
	}
	if c.ID == "" {
		t.Fatal("created client has no id")
	}
	sameClient(t, c, want)
	sameClient(t, get(t, s, c.ID), want)

	found, slot := lookup(t, s, key)
	if slot != keystore.SlotCurrent {
		t.Fatalf("slot %v, want current", slot)
	}
	sameClient(t, found, want)

	other, otherKey := create(t, s, "POS terminal 8")
	if other.ID == c.ID || otherKey == key {
		t.Fatal("two creates gave the same id or key")
	}
	if len(other.Scopes) != 0 || len(other.Metadata) != 0 || !other.ExpiresAt.IsZero() {
		t.Fatalf("client created without scopes, metadata or expiry reads back as %+v", other)
	}
}

// invalidClients are creates the store must refuse with ErrInvalid.
func invalidClients(now time.Time) map[string]keystore.NewClient {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	bigMeta := map[string]string{}
	for i := range keystore.MaxMetadataEntries + 1 {
		bigMeta[fmt.Sprintf("k%d", i)] = "v"
	}
	idem := func(key string, fp []byte) *keystore.Idempotency {
		return &keystore.Idempotency{Key: key, Fingerprint: fp}
	}
	return map[string]keystore.NewClient{
		"empty name":             {Name: ""},
		"name too long":          {Name: strings.Repeat("n", keystore.MaxNameLength+1)},
		"name with newline":      {Name: "evil\nlog line"},
		"name not UTF-8":         {Name: "bad \xff"},
		"empty scope":            {Name: "x", Scopes: []string{""}},
		"scope with space":       {Name: "x", Scopes: []string{"a b"}},
		"scope with quote":       {Name: "x", Scopes: []string{`a"b`}},
		"scope with backslash":   {Name: "x", Scopes: []string{`a\b`}},
		"scope not ASCII":        {Name: "x", Scopes: []string{"café"}},
		"scope too long":         {Name: "x", Scopes: []string{strings.Repeat("s", keystore.MaxScopeLength+1)}},
		"duplicate scope":        {Name: "x", Scopes: []string{"a", "a"}},
		"too many scopes":        {Name: "x", Scopes: many(keystore.MaxScopes+1, func(i int) string { return fmt.Sprintf("s%d", i) })},
		"too much metadata":      {Name: "x", Metadata: bigMeta},
		"metadata key too long":  {Name: "x", Metadata: map[string]string{strings.Repeat("k", keystore.MaxMetadataKeyLength+1): "v"}},
		"empty metadata key":     {Name: "x", Metadata: map[string]string{"": "v"}},
		"metadata value too big": {Name: "x", Metadata: map[string]string{"k": strings.Repeat("v", keystore.MaxMetadataValueLength+1)}},
		"expiry in the past":     {Name: "x", ExpiresAt: now.Add(-time.Second)},
		"expiry now":             {Name: "x", ExpiresAt: now},
		"short idempotency key":  {Name: "x", Idempotency: idem("short", []byte("fp"))},
		"idempotency key space":  {Name: "x", Idempotency: idem("0123456789 abcdef", []byte("fp"))},
		"no fingerprint":         {Name: "x", Idempotency: idem("0123456789abcdef", nil)},
	}
}

func testCreateRefusesInvalidData(t *testing.T, s keystore.Store, clock *Clock) {
	for name, c := range invalidClients(clock.Now()) {
		_, key, _, err := s.Create(adminContext(t), c)
		wantErr(t, name, err, keystore.ErrInvalid)
		if key != "" {
			t.Fatalf("%s: a refused create returned a key", name)
		}
	}
	if ids := listIDs(t, s, "", 0); len(ids) != 0 {
		t.Fatalf("refused creates left clients %v", ids)
	}
	if entries := auditEntries(t, s, ""); len(entries) != 0 {
		t.Fatalf("refused creates left %d audit entries", len(entries))
	}
	// The limits themselves are allowed.
	var scopes []string
	for i := range keystore.MaxScopes {
		scopes = append(scopes, fmt.Sprintf("scope:%d", i))
	}
	create(t, s, strings.Repeat("é", keystore.MaxNameLength), scopes...)
}

func testNotFound(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	create(t, s, "someone else")
	const missing = "cl_01ZZZZZZZZZZZZZZZZZZZZZZZZ"
	_, err := s.Get(ctx, missing)
	wantErr(t, "Get", err, keystore.ErrNotFound)
	_, err = s.Get(ctx, "")
	wantErr(t, "Get empty id", err, keystore.ErrNotFound)
	name := "renamed"
	_, err = s.Update(ctx, missing, keystore.ClientUpdate{Name: &name})
	wantErr(t, "Update", err, keystore.ErrNotFound)
	_, key, err := s.Rotate(ctx, missing, 0)
	wantErr(t, "Rotate", err, keystore.ErrNotFound)
	if key != "" {
		t.Fatal("a failed rotation returned a key")
	}
	_, err = s.SetStatus(ctx, missing, keystore.StatusDisabled)
	wantErr(t, "SetStatus", err, keystore.ErrNotFound)
	wantErr(t, "Delete", s.Delete(ctx, missing), keystore.ErrNotFound)
	refused(t, s, s.KeyFormat().Generate(), "well-formed key never issued")
	if n := len(auditEntries(t, s, "")); n != 1 {
		t.Fatalf("%d audit entries, want only the create", n)
	}
}

func testListPagesInCreationOrder(t *testing.T, s keystore.Store, clock *Clock) {
	var want []string
	for i := range 7 {
		if i != 3 { // two clients in the same instant keep their order too
			clock.Advance(time.Second)
		}
		c, _ := create(t, s, fmt.Sprintf("client %d", i))
		want = append(want, c.ID)
	}
	for _, limit := range []int{1, 3, 7, 100} {
		if got := listIDs(t, s, "", limit); !slices.Equal(got, want) {
			t.Fatalf("limit %d: listed %v, want %v", limit, got, want)
		}
	}
	page, err := s.List(t.Context(), keystore.ListOptions{Limit: 7})
	if err != nil || len(page.Clients) != 7 || page.Next != "" {
		t.Fatalf("exact page: %d clients, next %q, %v", len(page.Clients), page.Next, err)
	}
	_, err = s.List(t.Context(), keystore.ListOptions{After: "not a cursor!"})
	wantErr(t, "List with a bad cursor", err, keystore.ErrInvalid)
}

func testListDefaultPageSize(t *testing.T, s keystore.Store, clock *Clock) {
	for i := range keystore.DefaultPageSize + 1 {
		create(t, s, fmt.Sprintf("client %d", i))
	}
	page, err := s.List(t.Context(), keystore.ListOptions{})
	if err != nil || len(page.Clients) != keystore.DefaultPageSize || page.Next == "" {
		t.Fatalf("first page: %d clients, next %q, %v", len(page.Clients), page.Next, err)
	}
	page, err = s.List(t.Context(), keystore.ListOptions{After: page.Next})
	if err != nil || len(page.Clients) != 1 || page.Next != "" {
		t.Fatalf("second page: %d clients, next %q, %v", len(page.Clients), page.Next, err)
	}
}

func testListFiltersByStatus(t *testing.T, s keystore.Store, clock *Clock) {
	var all, disabled, active []string
	for i := range 6 {
		clock.Advance(time.Millisecond)
		c, _ := create(t, s, fmt.Sprintf("client %d", i))
		all = append(all, c.ID)
		if i%3 == 1 {
			if _, err := s.SetStatus(adminContext(t), c.ID, keystore.StatusDisabled); err != nil {
				t.Fatal(err)
			}
			disabled = append(disabled, c.ID)
		} else {
			active = append(active, c.ID)
		}
	}
	if got := listIDs(t, s, keystore.StatusDisabled, 1); !slices.Equal(got, disabled) {
		t.Fatalf("disabled: %v, want %v", got, disabled)
	}
	if got := listIDs(t, s, keystore.StatusActive, 2); !slices.Equal(got, active) {
		t.Fatalf("active: %v, want %v", got, active)
	}
	if got := listIDs(t, s, "", 4); !slices.Equal(got, all) {
		t.Fatalf("all: %v, want %v", got, all)
	}
	// Enabling moves a client back.
	if _, err := s.SetStatus(adminContext(t), disabled[0], keystore.StatusActive); err != nil {
		t.Fatal(err)
	}
	if got := listIDs(t, s, keystore.StatusDisabled, 0); !slices.Equal(got, disabled[1:]) {
		t.Fatalf("disabled after enable: %v, want %v", got, disabled[1:])
	}
	_, err := s.List(t.Context(), keystore.ListOptions{Status: "gone"})
	wantErr(t, "List with an unknown status", err, keystore.ErrInvalid)
}

func testUpdate(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, key := create(t, s, "before", "a")
	clock.Advance(time.Minute)

	name, scopes := "after", []string{"b", "c"}
	meta := map[string]string{"site": "north"}
	expires := clock.Now().Add(time.Hour)
	got, err := s.Update(ctx, c.ID, keystore.ClientUpdate{Name: &name, Scopes: &scopes, Metadata: &meta, ExpiresAt: &expires})
	if err != nil {
		t.Fatal(err)
	}
	want := c
	want.Name, want.Scopes, want.Metadata, want.ExpiresAt, want.UpdatedAt = name, scopes, meta, expires, clock.Now()
	sameClient(t, got, want)
	sameClient(t, get(t, s, c.ID), want)
	found, _ := lookup(t, s, key)
	sameClient(t, found, want)

	// Only the fields given change; a pointer to the zero time clears the expiry.
	clock.Advance(time.Minute)
	never := time.Time{}
	got, err = s.Update(ctx, c.ID, keystore.ClientUpdate{ExpiresAt: &never})
	if err != nil {
		t.Fatal(err)
	}
	want.ExpiresAt, want.UpdatedAt = time.Time{}, clock.Now()
	sameClient(t, got, want)

	// A change to what already is changes nothing, not even UpdatedAt.
	before := len(auditEntries(t, s, c.ID))
	clock.Advance(time.Minute)
	got, err = s.Update(ctx, c.ID, keystore.ClientUpdate{Name: &name, Scopes: &scopes})
	if err != nil {
		t.Fatal(err)
	}
	sameClient(t, got, want)
	if n := len(auditEntries(t, s, c.ID)); n != before {
		t.Fatalf("no-op update added %d audit entries", n-before)
	}
}

func testUpdateRefusesInvalidData(t *testing.T, s keystore.Store, clock *Clock) {
	c, _ := create(t, s, "stable", "a")
	before := auditEntries(t, s, "")
	for what, nc := range invalidClients(clock.Now()) {
		var u keystore.ClientUpdate
		switch {
		case nc.Name != "x":
			u.Name = &nc.Name
		case nc.Scopes != nil:
			u.Scopes = &nc.Scopes
		case nc.Metadata != nil:
			u.Metadata = &nc.Metadata
		case !nc.ExpiresAt.IsZero():
			u.ExpiresAt = &nc.ExpiresAt
		default:
			continue // idempotency does not apply to updates
		}
		_, err := s.Update(adminContext(t), c.ID, u)
		wantErr(t, what, err, keystore.ErrInvalid)
	}
	sameClient(t, get(t, s, c.ID), c)
	if after := auditEntries(t, s, ""); len(after) != len(before) {
		t.Fatalf("refused updates added %d audit entries", len(after)-len(before))
	}
}

func testSetStatus(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, key := create(t, s, "terminal")
	clock.Advance(time.Minute)

	got, err := s.SetStatus(ctx, c.ID, keystore.StatusDisabled)
	if err != nil || got.Status != keystore.StatusDisabled || !got.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	// Lookup still finds a disabled client's key; refusing it is the
	// caller's decision, made on the status Lookup reports.
	if found, _ := lookup(t, s, key); found.Status != keystore.StatusDisabled {
		t.Fatalf("Lookup reports status %q after disable", found.Status)
	}
	entries := auditEntries(t, s, c.ID)

	clock.Advance(time.Minute)
	again, err := s.SetStatus(ctx, c.ID, keystore.StatusDisabled)
	if err != nil {
		t.Fatalf("disabling a disabled client: %v", err)
	}
	sameClient(t, again, got)
	if n := len(auditEntries(t, s, c.ID)); n != len(entries) {
		t.Fatal("setting the same status again was recorded")
	}

	got, err = s.SetStatus(ctx, c.ID, keystore.StatusActive)
	if err != nil || got.Status != keystore.StatusActive {
		t.Fatalf("enable: %+v, %v", got, err)
	}
	if found, _ := lookup(t, s, key); found.Status != keystore.StatusActive {
		t.Fatalf("Lookup reports status %q after enable", found.Status)
	}
	_, err = s.SetStatus(ctx, c.ID, "suspended")
	wantErr(t, "unknown status", err, keystore.ErrInvalid)
	if get(t, s, c.ID).Status != keystore.StatusActive {
		t.Fatal("a refused status change changed the status")
	}
}

func testDelete(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, oldKey := create(t, s, "leaving")
	keep, keepKey := create(t, s, "staying")
	_, newKey, err := s.Rotate(ctx, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, c.ID)
	wantErr(t, "Get after Delete", err, keystore.ErrNotFound)
	refused(t, s, newKey, "current key of a deleted client")
	refused(t, s, oldKey, "retiring key of a deleted client")
	wantErr(t, "second Delete", s.Delete(ctx, c.ID), keystore.ErrNotFound)
	if ids := listIDs(t, s, "", 0); !slices.Equal(ids, []string{keep.ID}) {
		t.Fatalf("List after Delete: %v", ids)
	}
	if ids := listIDs(t, s, keystore.StatusActive, 0); !slices.Equal(ids, []string{keep.ID}) {
		t.Fatalf("List active after Delete: %v", ids)
	}
	lookup(t, s, keepKey)
	entries := auditEntries(t, s, c.ID)
	if len(entries) != 3 || entries[0].Action != keystore.ActionDelete {
		t.Fatalf("audit of a deleted client: %+v", entries)
	}
}

func testRecordUse(t *testing.T, s keystore.Store, clock *Clock) {
	c, _ := create(t, s, "busy")
	other, _ := create(t, s, "idle")
	entries := len(auditEntries(t, s, ""))
	t1 := clock.Now().Add(time.Minute)
	if err := s.RecordUse(t.Context(), map[string]time.Time{c.ID: t1, "cl_01ZZZZZZZZZZZZZZZZZZZZZZZZ": t1}); err != nil {
		t.Fatalf("RecordUse with an unknown id: %v", err)
	}
	if got := get(t, s, c.ID); !got.LastUsedAt.Equal(t1) || !got.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("after RecordUse: last used %v, updated %v", got.LastUsedAt, got.UpdatedAt)
	}
	if !get(t, s, other.ID).LastUsedAt.IsZero() {
		t.Fatal("RecordUse touched another client")
	}
	if err := s.RecordUse(t.Context(), map[string]time.Time{c.ID: t1.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, c.ID); !got.LastUsedAt.Equal(t1) {
		t.Fatalf("an older time replaced the last use: %v", got.LastUsedAt)
	}
	t2 := t1.Add(time.Minute)
	if err := s.RecordUse(t.Context(), map[string]time.Time{c.ID: t2, other.ID: t2}); err != nil {
		t.Fatal(err)
	}
	if !get(t, s, c.ID).LastUsedAt.Equal(t2) || !get(t, s, other.ID).LastUsedAt.Equal(t2) {
		t.Fatal("a newer time was not recorded")
	}
	if err := s.RecordUse(t.Context(), nil); err != nil {
		t.Fatalf("RecordUse(nil): %v", err)
	}
	if n := len(auditEntries(t, s, "")); n != entries {
		t.Fatal("RecordUse was audited")
	}
}
