package authserver_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// TestSeedEntriesOnce applies a seed file as every start does.
func TestSeedEntriesOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenBolt(filepath.Join(t.TempDir(), "authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed := authserver.Seed{
		Clients: []authserver.ClientSpec{{ID: "billing", Secret: "0123456789abcdef0123456789abcdef", GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"admin.read"}}},
		Users:   []authserver.UserSpec{{Username: "Carol", Password: "carols password"}},
	}
	now := time.Now()
	if r, err := authserver.ApplySeed(ctx, st, seed, now); err != nil || len(r.Created) != 2 {
		t.Fatalf("first: %+v %v", r, err)
	}
	if err := st.DeleteClient(ctx, "billing"); err != nil {
		t.Fatal(err)
	}
	if r, err := authserver.ApplySeed(ctx, st, seed, now); err != nil || len(r.Created) != 0 || len(r.Skipped) != 2 {
		t.Fatalf("second: %+v %v", r, err)
	}
	if _, err := st.GetClient(ctx, "billing"); err == nil {
		t.Fatal("the removed client came back")
	}
	// Another password alone is not a new entry (no digest of a password
	// is stored); another name is.
	seed.Users[0].Password = "another password"
	if r, _ := authserver.ApplySeed(ctx, st, seed, now); len(r.Skipped) != 2 {
		t.Fatalf("password changed: %+v", r)
	}
	seed.Users[0].Name = "Carol C."
	if r, _ := authserver.ApplySeed(ctx, st, seed, now); len(r.Existing) != 1 || r.Existing[0] != "user Carol" {
		t.Fatalf("name changed: %+v", r)
	}

	for name, bad := range map[string]authserver.Seed{
		"confidential client without secret": {Clients: []authserver.ClientSpec{{ID: "x", GrantTypes: []string{store.GrantClientCredentials}}}},
		"short secret":                       {Clients: []authserver.ClientSpec{{ID: "x", Secret: "short", GrantTypes: []string{store.GrantClientCredentials}}}},
		"client listed twice": {Clients: []authserver.ClientSpec{
			{ID: "x", Secret: "0123456789abcdef0123456789abcdef", GrantTypes: []string{store.GrantClientCredentials}},
			{ID: "x", Secret: "0123456789abcdef0123456789abcdef", GrantTypes: []string{store.GrantClientCredentials}}}},
		"short password":      {Users: []authserver.UserSpec{{Username: "dave", Password: "short"}}},
		"user listed twice":   {Users: []authserver.UserSpec{{Username: "dave", Password: "long enough"}, {Username: "DAVE", Password: "long enough"}}},
		"user without a name": {Users: []authserver.UserSpec{{Username: " ", Password: "long enough"}}},
	} {
		if r, err := authserver.ApplySeed(ctx, st, bad, now); err == nil || len(r.Created)+len(r.Existing) != 0 {
			t.Errorf("%s: %+v %v", name, r, err)
		}
	}
}
