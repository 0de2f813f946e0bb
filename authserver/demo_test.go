package authserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// TestDemoCredentialsOnce: demo credentials are created on the first
// start only; removing every client and user later does not bring new
// ones (with new secrets) back.
func TestDemoCredentialsOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenBolt(filepath.Join(dir, "authserver.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	opts := authserver.DemoOptions{Issuer: "http://localhost:5000", Path: filepath.Join(dir, "demo-credentials.json"), Now: time.Now()}
	creds, err := authserver.EnsureDemoCredentials(ctx, st, opts)
	if err != nil || creds == nil {
		t.Fatalf("first start: %v, %v", creds, err)
	}
	if again, err := authserver.EnsureDemoCredentials(ctx, st, opts); err != nil || again != nil {
		t.Fatalf("second start created %v (%v)", again, err)
	}
	for _, id := range []string{creds.AdminClient.ClientID, creds.PortalClient.ClientID} {
		if err := st.DeleteClient(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	u, err := st.GetUserByUsername(ctx, creds.User.Username)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(opts.Path); err != nil {
		t.Fatal(err)
	}
	if again, err := authserver.EnsureDemoCredentials(ctx, st, opts); err != nil || again != nil {
		t.Fatalf("after removing everything, a start created %v (%v)", again, err)
	}
	if _, err := os.Stat(opts.Path); !os.IsNotExist(err) {
		t.Fatalf("credentials file written again: %v", err)
	}
}
