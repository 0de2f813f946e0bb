package keys_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-gw/gatehouse/authserver/keys"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openStore(t *testing.T) store.Store {
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var schedule = keys.Config{RotationInterval: 10 * time.Hour, PublishLead: 2 * time.Hour, Retention: 3 * time.Hour}

func states(m *keys.Manager) map[keys.State][]string {
	out := map[keys.State][]string{}
	for _, s := range m.Status() {
		out[s.State] = append(out[s.State], s.ID)
	}
	return out
}

func jwksIDs(t *testing.T, m *keys.Manager) []string {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		if k.Algorithm != "RS256" || k.Use != "sig" || !k.IsPublic() {
			t.Fatalf("JWKS key %+v is not a public RS256 signing key", k)
		}
		ids = append(ids, k.KeyID)
	}
	return ids
}

// TestRotationSchedule walks a key set through two rotations with an
// injected clock and checks which keys are next, current, retiring and
// published at each step.
func TestRotationSchedule(t *testing.T) {
	clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := openStore(t)
	m, err := keys.NewManager(st, schedule, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Signer(); err == nil {
		t.Fatal("signer available before maintenance")
	}
	must(t, m.Maintain(t.Context()))
	first, err := m.Signer()
	must(t, err)
	if got := jwksIDs(t, m); len(got) != 1 || got[0] != first.ID {
		t.Fatalf("JWKS after first start = %v", got)
	}

	// Not yet within the publish lead of the interval's end: nothing new.
	clk.Advance(7 * time.Hour)
	must(t, m.Maintain(t.Context()))
	if s := states(m); len(s[keys.StateNext]) != 0 {
		t.Fatalf("next key published too early: %v", s)
	}

	// A publish lead before the interval ends, the next key is published
	// but does not sign.
	clk.Advance(time.Hour) // 8h
	must(t, m.Maintain(t.Context()))
	s := states(m)
	if len(s[keys.StateNext]) != 1 || s[keys.StateCurrent][0] != first.ID {
		t.Fatalf("at 8h: %v", s)
	}
	next := s[keys.StateNext][0]
	if got := jwksIDs(t, m); len(got) != 2 {
		t.Fatalf("JWKS at 8h = %v, want current and next", got)
	}
	clk.Advance(2*time.Hour - time.Second)
	if k, _ := m.Signer(); k.ID != first.ID {
		t.Fatal("the next key signs before its activation")
	}

	// At the end of the interval the next key signs and the first retires.
	clk.Advance(time.Second) // 10h
	must(t, m.Maintain(t.Context()))
	if k, _ := m.Signer(); k.ID != next {
		t.Fatalf("signer at 10h = %s, want %s", k.ID, next)
	}
	s = states(m)
	if len(s[keys.StateRetiring]) != 1 || s[keys.StateRetiring][0] != first.ID {
		t.Fatalf("at 10h: %v", s)
	}
	if k, ok := m.Published(first.ID); !ok || k.ID != first.ID {
		t.Fatal("retiring key not available for verification")
	}

	// Retention is 3h: just before, still published; after, gone.
	clk.Advance(3*time.Hour - time.Second)
	must(t, m.Maintain(t.Context()))
	if got := jwksIDs(t, m); len(got) != 2 {
		t.Fatalf("JWKS just before the retention ends = %v", got)
	}
	clk.Advance(2 * time.Second)
	must(t, m.Maintain(t.Context()))
	if got := jwksIDs(t, m); len(got) != 1 || got[0] != next {
		t.Fatalf("JWKS after the retention = %v, want only %s", got, next)
	}
	if _, ok := m.Published(first.ID); ok {
		t.Fatal("expired key still accepted for verification")
	}
	stored, _ := st.ListSigningKeys(t.Context())
	if len(stored) != 1 {
		t.Fatalf("expired key left in the store: %d keys", len(stored))
	}
}

func TestRotateNowPublishesBeforeSigning(t *testing.T) {
	clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	m, err := keys.NewManager(openStore(t), schedule, clk.Now)
	must(t, err)
	must(t, m.Maintain(t.Context()))
	first, _ := m.Signer()
	st, err := m.Rotate(t.Context())
	must(t, err)
	if st.State != keys.StateNext || !st.ActivatesAt.Equal(clk.Now().Add(schedule.PublishLead)) {
		t.Fatalf("Rotate = %+v", st)
	}
	again, err := m.Rotate(t.Context())
	must(t, err)
	if again.ID != st.ID {
		t.Fatal("a second Rotate scheduled another key while one was waiting")
	}
	if k, _ := m.Signer(); k.ID != first.ID {
		t.Fatal("rotated key signs before the publish lead")
	}
	clk.Advance(schedule.PublishLead)
	if k, _ := m.Signer(); k.ID != st.ID {
		t.Fatal("rotated key does not sign after the publish lead")
	}
}

func TestEncryptionAtRest(t *testing.T) {
	clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := openStore(t)
	cfg := schedule
	cfg.Secret = []byte("0123456789abcdef0123456789abcdef")
	m, err := keys.NewManager(st, cfg, clk.Now)
	must(t, err)
	must(t, m.Maintain(t.Context()))
	k, _ := m.Signer()
	stored, _ := st.ListSigningKeys(t.Context())
	if len(stored) != 1 || !stored[0].Encrypted || bytes.HasPrefix(stored[0].Private, []byte{0x30, 0x82}) {
		t.Fatal("key stored in the clear")
	}

	noSecret, _ := keys.NewManager(st, schedule, clk.Now)
	if err := noSecret.Maintain(t.Context()); !errors.Is(err, keys.ErrNoSecret) {
		t.Fatalf("without the secret: %v, want ErrNoSecret", err)
	}
	wrong := schedule
	wrong.Secret = []byte("another-secret-another-secret-xx")
	other, _ := keys.NewManager(st, wrong, clk.Now)
	if err := other.Maintain(t.Context()); err == nil {
		t.Fatal("keys decrypted with the wrong secret")
	}
	if _, err := keys.NewManager(st, keys.Config{RotationInterval: time.Hour, Retention: time.Hour, Secret: []byte("short")}, clk.Now); err == nil {
		t.Fatal("short secret accepted")
	}

	// A key stored in the clear is sealed once a secret is configured.
	plainStore := openStore(t)
	plain, _ := keys.NewManager(plainStore, schedule, clk.Now)
	must(t, plain.Maintain(t.Context()))
	sealed, _ := keys.NewManager(plainStore, cfg, clk.Now)
	must(t, sealed.Maintain(t.Context()))
	stored, _ = plainStore.ListSigningKeys(t.Context())
	if !stored[0].Encrypted {
		t.Fatal("plaintext key not encrypted after a secret was configured")
	}
	if _, err := sealed.Signer(); err != nil {
		t.Fatalf("sealed key does not sign: %v", err)
	}
	if _, ok := m.Published(k.ID); !ok {
		t.Fatal("encrypted key not published")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
