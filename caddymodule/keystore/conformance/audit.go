package conformance

import (
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

func testAuditRecordsEveryChange(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, _ := create(t, s, "audited", "a")
	var times []time.Time
	times = append(times, clock.Now())
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		times = append(times, clock.Now())
	}
	clock.Advance(time.Second)
	name := "renamed"
	_, err := s.Update(ctx, c.ID, keystore.ClientUpdate{Name: &name})
	step("update", err)
	clock.Advance(time.Second)
	_, _, err = s.Rotate(ctx, c.ID, 30*time.Second)
	step("rotate", err)
	clock.Advance(time.Second)
	_, err = s.SetStatus(ctx, c.ID, keystore.StatusDisabled)
	step("disable", err)
	clock.Advance(time.Second)
	_, err = s.SetStatus(ctx, c.ID, keystore.StatusActive)
	step("enable", err)
	clock.Advance(time.Second)
	step("delete", s.Delete(ctx, c.ID))

	entries := auditEntries(t, s, "")
	wantActions := []string{keystore.ActionDelete, keystore.ActionEnable, keystore.ActionDisable,
		keystore.ActionRotate, keystore.ActionUpdate, keystore.ActionCreate}
	var gotActions []string
	for i, e := range entries {
		gotActions = append(gotActions, e.Action)
		if e.Target != c.ID || e.Actor != admin || e.ID == "" {
			t.Fatalf("entry %d: %+v", i, e)
		}
		if want := times[len(times)-1-i]; !e.Time.Equal(want) {
			t.Fatalf("entry %d (%s) at %v, want %v", i, e.Action, e.Time, want)
		}
	}
	if !slices.Equal(gotActions, wantActions) {
		t.Fatalf("actions newest first %v, want %v", gotActions, wantActions)
	}
	if d := entries[3].Detail["grace_period_seconds"]; d != "30" {
		t.Fatalf("rotate detail grace_period_seconds = %q, want 30", d)
	}

	// A change made without an actor in the context is the system's.
	other, _, _, err := s.Create(t.Context(), keystore.NewClient{Name: "by the system"})
	if err != nil {
		t.Fatal(err)
	}
	if e := auditEntries(t, s, other.ID); len(e) != 1 || e[0].Actor.Subject != "system" {
		t.Fatalf("audit of a change without actor: %+v", e)
	}
}

func testAuditFiltersAndPages(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	a, _ := create(t, s, "a")
	b, _ := create(t, s, "b")
	for range 3 {
		clock.Advance(time.Second)
		if _, _, err := s.Rotate(ctx, a.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Rotate(ctx, b.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	all := auditEntries(t, s, "")
	if len(all) != 8 {
		t.Fatalf("%d entries, want 8", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.After(all[i-1].Time) {
			t.Fatal("audit log is not newest first")
		}
	}
	onlyA := auditEntries(t, s, a.ID)
	if len(onlyA) != 4 {
		t.Fatalf("%d entries for one client, want 4", len(onlyA))
	}
	for _, e := range onlyA {
		if e.Target != a.ID {
			t.Fatalf("filtered log holds an entry about %s", e.Target)
		}
	}
	// Paging one entry at a time gives the same sequence.
	var paged []string
	q := keystore.AuditQuery{Target: a.ID, Limit: 1}
	for {
		page, err := s.Audit(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) > 1 {
			t.Fatalf("page of %d entries, limit 1", len(page.Entries))
		}
		for _, e := range page.Entries {
			paged = append(paged, e.ID)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	var want []string
	for _, e := range onlyA {
		want = append(want, e.ID)
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged %v, want %v", paged, want)
	}
	if e := auditEntries(t, s, "cl_01ZZZZZZZZZZZZZZZZZZZZZZZZ"); len(e) != 0 {
		t.Fatalf("entries for a client that never existed: %+v", e)
	}
	_, err := s.Audit(t.Context(), keystore.AuditQuery{After: "%%%"})
	wantErr(t, "Audit with a bad cursor", err, keystore.ErrInvalid)
}

// testAuditHoldsNoSecret: neither a key nor its hash, in any encoding,
// appears in any field of the audit log.
func testAuditHoldsNoSecret(t *testing.T, s keystore.Store, clock *Clock) {
	ctx := adminContext(t)
	c, key1, _, err := s.Create(ctx, keystore.NewClient{Name: "secretive", Scopes: []string{"a"},
		Idempotency: &keystore.Idempotency{Key: "idem-0123456789abcdef", Fingerprint: []byte("body")}})
	if err != nil {
		t.Fatal(err)
	}
	_, key2, err := s.Rotate(ctx, c.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, k := range []string{key1, key2} {
		h := keystore.HashKey(k)
		secrets = append(secrets, k, k[len(s.KeyFormat().DisplayPrefix(k)):],
			hex.EncodeToString(h[:]), base64.StdEncoding.EncodeToString(h[:]), base64.RawURLEncoding.EncodeToString(h[:]))
	}
	secrets = append(secrets, "idem-0123456789abcdef")
	for _, e := range auditEntries(t, s, "") {
		fields := []string{e.ID, e.Action, e.Target, e.Actor.Subject, e.Actor.ClientID, e.Actor.RemoteAddr}
		for k, v := range e.Detail {
			fields = append(fields, k, v)
		}
		for _, f := range fields {
			for _, secret := range secrets {
				if strings.Contains(f, secret) {
					t.Fatalf("audit entry %s (%s) holds a secret", e.ID, e.Action)
				}
			}
		}
	}
}
