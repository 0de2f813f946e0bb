package authserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// DemoPortalRedirectURI is where the demo portal client returns: a
// next-auth portal on port 3001 with provider id "rsa".
const DemoPortalRedirectURI = "http://localhost:3001/api/auth/callback/rsa"

// DemoCredentials is the demo-credentials file, field for field.
type DemoCredentials struct {
	Issuer       string           `json:"issuer"`
	AdminClient  DemoAdminClient  `json:"admin_client"`
	PortalClient DemoPortalClient `json:"portal_client"`
	User         DemoUser         `json:"user"`
	POSKey       *DemoPOSKey      `json:"pos_key,omitempty"`
}

// DemoAdminClient is the confidential client-credentials client.
type DemoAdminClient struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Scopes       []string `json:"scopes"`
}

// DemoPortalClient is the public PKCE client.
type DemoPortalClient struct {
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
}

// DemoUser can log in to the portal.
type DemoUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// DemoPOSKey is an API key of the gateway's key store.
type DemoPOSKey struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// POSKeyFunc creates the demo API key in the gateway's key store; the
// host that owns that store provides it.
type POSKeyFunc func(ctx context.Context) (id, apiKey string, err error)

// DemoOptions configures EnsureDemoCredentials.
type DemoOptions struct {
	// Issuer is written to the file.
	Issuer string
	// Path of the credentials file, e.g. $GATEHOUSE_DATA_DIR/demo-credentials.json.
	Path string
	// POSKey, when set, creates the pos_key part.
	POSKey POSKeyFunc
	// Now is the creation time.
	Now time.Time
}

// demoSeedKey records, like a seed entry, that the demo credentials were
// created or were not wanted: a store is empty once only.
const demoSeedKey = "demo-credentials"

// EnsureDemoCredentials creates demo credentials on a first start: when
// the store has no clients and no users and never had demo credentials.
// It writes them to opts.Path (mode 0600) and returns them; on later
// starts it creates nothing and returns nil, even after every client and
// user was removed. Every id, secret and password is generated.
func EnsureDemoCredentials(ctx context.Context, st store.Store, opts DemoOptions) (*DemoCredentials, error) {
	done, err := st.SeedApplied(ctx, demoSeedKey)
	if err != nil || done {
		return nil, err
	}
	clients, err := st.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	if len(clients) > 0 || len(users) > 0 {
		return nil, st.MarkSeedApplied(ctx, demoSeedKey, opts.Now)
	}
	suffix := randomID()[:8]
	admin := ClientSpec{
		ID:         "admin-" + suffix,
		Name:       "Demo admin client",
		GrantTypes: []string{store.GrantClientCredentials},
		Scopes:     []string{"admin.read", "admin.write"},
	}
	portal := ClientSpec{
		ID:                     "portal-" + suffix,
		Name:                   "Demo admin portal",
		Public:                 true,
		GrantTypes:             []string{store.GrantAuthorizationCode, store.GrantRefreshToken},
		Scopes:                 []string{"openid", "profile", "email", "offline_access", "admin.read"},
		RedirectURIs:           []string{DemoPortalRedirectURI},
		PostLogoutRedirectURIs: []string{"http://localhost:3001/"},
	}
	user := UserSpec{Username: "demo-" + suffix, Password: randomToken()[:24], Name: "Demo User", GivenName: "Demo", FamilyName: "User"}

	creds := &DemoCredentials{
		Issuer:       opts.Issuer,
		AdminClient:  DemoAdminClient{ClientID: admin.ID, Scopes: admin.Scopes},
		PortalClient: DemoPortalClient{ClientID: portal.ID, RedirectURI: DemoPortalRedirectURI},
		User:         DemoUser{Username: user.Username, Password: user.Password},
	}
	if _, creds.AdminClient.ClientSecret, err = CreateClient(ctx, st, admin, opts.Now); err != nil {
		return nil, fmt.Errorf("creating demo admin client: %w", err)
	}
	if _, _, err = CreateClient(ctx, st, portal, opts.Now); err != nil {
		return nil, fmt.Errorf("creating demo portal client: %w", err)
	}
	if _, err = CreateUser(ctx, st, user, opts.Now); err != nil {
		return nil, fmt.Errorf("creating demo user: %w", err)
	}
	if opts.POSKey != nil {
		id, key, err := opts.POSKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("creating demo POS key: %w", err)
		}
		creds.POSKey = &DemoPOSKey{ID: id, APIKey: key}
	}
	if err := writeFileAtomic(opts.Path, creds); err != nil {
		return nil, err
	}
	if err := st.MarkSeedApplied(ctx, demoSeedKey, opts.Now); err != nil {
		return nil, err
	}
	return creds, nil
}

// writeFileAtomic writes v as indented JSON through a temporary file and
// a rename, so a reader never sees half a file.
func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-credentials-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Print writes the credentials for the person who started the server.
func (d *DemoCredentials) Print(w io.Writer) {
	fmt.Fprintf(w, "\nGatehouse demo credentials (created on first start):\n")
	fmt.Fprintf(w, "  issuer:         %s\n", d.Issuer)
	fmt.Fprintf(w, "  admin client:   %s / %s (scopes %v)\n", d.AdminClient.ClientID, d.AdminClient.ClientSecret, d.AdminClient.Scopes)
	fmt.Fprintf(w, "  portal client:  %s (public, PKCE) -> %s\n", d.PortalClient.ClientID, d.PortalClient.RedirectURI)
	fmt.Fprintf(w, "  user:           %s / %s\n", d.User.Username, d.User.Password)
	if d.POSKey != nil {
		fmt.Fprintf(w, "  POS API key:    %s (id %s)\n", d.POSKey.APIKey, d.POSKey.ID)
	}
	fmt.Fprintln(w)
}
