// Package conformance is the test suite every authserver store backend
// must pass. A backend's test calls Run with a function that opens a
// fresh, empty store.
package conformance

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Run runs the suite; open returns a new empty store, closed by the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(t *testing.T, st store.Store){
		"Clients":            testClients,
		"Users":              testUsers,
		"ConsentsAndSession": testConsentsAndSessions,
		"CodeFlow":           testCodeFlow,
		"CodeReplay":         testCodeReplay,
		"RefreshRotation":    testRefreshRotation,
		"RevokedTokens":      testRevokedTokens,
		"SigningKeys":        testSigningKeys,
		"Secrets":            testSecrets,
		"SeedMarks":          testSeedMarks,
		"DeleteExpired":      testDeleteExpired,
		"DeleteCascades":     testDeleteCascades,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			defer st.Close()
			test(t, st)
		})
	}
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func testClients(t *testing.T, st store.Store) {
	ctx := context.Background()
	c := store.Client{ID: "svc", SecretHash: store.Hash("s"), GrantTypes: []string{store.GrantClientCredentials}, Scopes: []string{"a", "b"}, CreatedAt: t0}
	must(t, st.CreateClient(ctx, c))
	wantErr(t, st.CreateClient(ctx, c), store.ErrConflict)
	wantErr(t, st.CreateClient(ctx, store.Client{}), store.ErrInvalid)
	got, err := st.GetClient(ctx, "svc")
	must(t, err)
	if got.SecretHash != c.SecretHash || !slices.Equal(got.Scopes, c.Scopes) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("GetClient = %+v, want %+v", got, c)
	}
	_, err = st.GetClient(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)

	updated, err := st.UpdateClient(ctx, "svc", func(c *store.Client) error { c.Scopes = []string{"z"}; c.ID = "renamed"; return nil })
	must(t, err)
	if updated.ID != "svc" || !slices.Equal(updated.Scopes, []string{"z"}) {
		t.Fatalf("UpdateClient = %+v", updated)
	}
	refuse := errors.New("refused")
	_, err = st.UpdateClient(ctx, "svc", func(c *store.Client) error { c.Scopes = nil; return refuse })
	wantErr(t, err, refuse)
	got, _ = st.GetClient(ctx, "svc")
	if !slices.Equal(got.Scopes, []string{"z"}) {
		t.Fatalf("a failed update changed the client: %+v", got)
	}
	_, err = st.UpdateClient(ctx, "nope", func(*store.Client) error { return nil })
	wantErr(t, err, store.ErrNotFound)

	must(t, st.CreateClient(ctx, store.Client{ID: "app", Public: true}))
	list, err := st.ListClients(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != "app" || list[1].ID != "svc" {
		t.Fatalf("ListClients = %+v", list)
	}
	must(t, st.DeleteClient(ctx, "app"))
	wantErr(t, st.DeleteClient(ctx, "app"), store.ErrNotFound)
}

func testUsers(t *testing.T, st store.Store) {
	ctx := context.Background()
	u := store.User{ID: "u1", Username: "Alice", PasswordHash: "h", Name: "Alice A"}
	must(t, st.CreateUser(ctx, u))
	wantErr(t, st.CreateUser(ctx, store.User{ID: "u2", Username: "alice"}), store.ErrConflict)
	wantErr(t, st.CreateUser(ctx, store.User{ID: "u1", Username: "bob"}), store.ErrConflict)
	wantErr(t, st.CreateUser(ctx, store.User{ID: "u3"}), store.ErrInvalid)
	got, err := st.GetUserByUsername(ctx, "ALICE")
	must(t, err)
	if got.ID != "u1" || got.Name != "Alice A" {
		t.Fatalf("GetUserByUsername = %+v", got)
	}
	must(t, st.CreateUser(ctx, store.User{ID: "u2", Username: "bob"}))
	_, err = st.UpdateUser(ctx, "u2", func(u *store.User) error { u.Username = "alice"; return nil })
	wantErr(t, err, store.ErrConflict)
	_, err = st.UpdateUser(ctx, "u2", func(u *store.User) error { u.Username = "robert"; return nil })
	must(t, err)
	_, err = st.GetUserByUsername(ctx, "bob")
	wantErr(t, err, store.ErrNotFound)
	if got, err := st.GetUserByUsername(ctx, "Robert"); err != nil || got.ID != "u2" {
		t.Fatalf("renamed user not found: %+v %v", got, err)
	}
	users, err := st.ListUsers(ctx)
	must(t, err)
	if len(users) != 2 {
		t.Fatalf("ListUsers = %+v", users)
	}
	must(t, st.DeleteUser(ctx, "u1"))
	_, err = st.GetUserByUsername(ctx, "alice")
	wantErr(t, err, store.ErrNotFound)
	must(t, st.CreateUser(ctx, store.User{ID: "u9", Username: "alice"}))
}

func testConsentsAndSessions(t *testing.T, st store.Store) {
	ctx := context.Background()
	must(t, st.CreateUser(ctx, store.User{ID: "u1", Username: "alice"}))
	_, err := st.GetConsent(ctx, "u1", "app")
	wantErr(t, err, store.ErrNotFound)
	must(t, st.PutConsent(ctx, store.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid"}, GrantedAt: t0}))
	must(t, st.PutConsent(ctx, store.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid", "profile"}, GrantedAt: t0}))
	c, err := st.GetConsent(ctx, "u1", "app")
	must(t, err)
	if !slices.Equal(c.Scopes, []string{"openid", "profile"}) {
		t.Fatalf("GetConsent = %+v", c)
	}
	wantErr(t, st.PutConsent(ctx, store.Consent{UserID: "ghost", ClientID: "app"}), store.ErrNotFound)

	s := store.Session{ID: store.Hash("cookie"), UserID: "u1", AuthTime: t0, ExpiresAt: t0.Add(time.Hour)}
	must(t, st.CreateSession(ctx, s))
	got, err := st.GetSession(ctx, s.ID)
	must(t, err)
	if got.UserID != "u1" || !got.AuthTime.Equal(t0) {
		t.Fatalf("GetSession = %+v", got)
	}
	must(t, st.DeleteSession(ctx, s.ID))
	must(t, st.DeleteSession(ctx, s.ID))
	_, err = st.GetSession(ctx, s.ID)
	wantErr(t, err, store.ErrNotFound)
}

func newAuthRequest(id string) store.AuthRequest {
	return store.AuthRequest{ID: id, ClientID: "app", RedirectURI: "https://app/cb", Scopes: []string{"openid"},
		CodeChallenge: "x", CodeChallengeMethod: "S256", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
}

// issueCode takes an authorization request through login and consent.
func issueCode(t *testing.T, st store.Store, id, code string) {
	t.Helper()
	ctx := context.Background()
	must(t, st.CreateAuthRequest(ctx, newAuthRequest(id)))
	_, err := st.UpdateAuthRequest(ctx, id, func(ar *store.AuthRequest) error {
		ar.UserID, ar.AuthTime = "u1", t0
		ar.CodeHash, ar.CodeExpiresAt = store.Hash(code), t0.Add(5*time.Minute)
		return nil
	})
	must(t, err)
}

func testCodeFlow(t *testing.T, st store.Store) {
	ctx := context.Background()
	ar := newAuthRequest("r1")
	must(t, st.CreateAuthRequest(ctx, ar))
	wantErr(t, st.CreateAuthRequest(ctx, ar), store.ErrConflict)
	_, err := st.GetAuthRequestByCode(ctx, store.Hash("code1"))
	wantErr(t, err, store.ErrNotFound)
	issueCode(t, st, "r2", "code1")
	got, err := st.GetAuthRequestByCode(ctx, store.Hash("code1"))
	must(t, err)
	if got.ID != "r2" || got.UserID != "u1" {
		t.Fatalf("GetAuthRequestByCode = %+v", got)
	}
	_, err = st.UpdateAuthRequest(ctx, "r1", func(ar *store.AuthRequest) error { ar.CodeHash = store.Hash("code1"); return nil })
	wantErr(t, err, store.ErrConflict)

	wantErr(t, st.RedeemCode(ctx, store.Hash("code1"), t0.Add(6*time.Minute), store.Issued{}, nil), store.ErrExpired)
	issued := store.Issued{AccessToken: store.TokenRef{ID: "jti1", ExpiresAt: t0.Add(time.Hour)}, RefreshFamily: "fam1"}
	rt := store.RefreshToken{Hash: store.Hash("rt1"), FamilyID: "fam1", ClientID: "app", UserID: "u1", Scopes: []string{"openid"}, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	must(t, st.RedeemCode(ctx, store.Hash("code1"), t0.Add(time.Minute), issued, &rt))
	got, _ = st.GetAuthRequest(ctx, "r2")
	if got.RedeemedAt.IsZero() || got.Issued == nil || got.Issued.AccessToken.ID != "jti1" {
		t.Fatalf("redeemed request = %+v", got)
	}
	gotRT, err := st.GetRefreshToken(ctx, store.Hash("rt1"))
	must(t, err)
	if gotRT.FamilyID != "fam1" || gotRT.FamilyRevoked {
		t.Fatalf("GetRefreshToken = %+v", gotRT)
	}
	wantErr(t, st.RedeemCode(ctx, store.Hash("nope"), t0, store.Issued{}, nil), store.ErrNotFound)
}

func testCodeReplay(t *testing.T, st store.Store) {
	ctx := context.Background()
	issueCode(t, st, "r1", "code1")
	issued := store.Issued{AccessToken: store.TokenRef{ID: "jti1", ExpiresAt: t0.Add(time.Hour)}, RefreshFamily: "fam1"}
	rt := store.RefreshToken{Hash: store.Hash("rt1"), FamilyID: "fam1", ClientID: "app", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	must(t, st.RedeemCode(ctx, store.Hash("code1"), t0.Add(time.Minute), issued, &rt))
	if revoked, _ := st.IsTokenRevoked(ctx, "jti1"); revoked {
		t.Fatal("access token revoked before any replay")
	}
	err := st.RedeemCode(ctx, store.Hash("code1"), t0.Add(2*time.Minute), store.Issued{AccessToken: store.TokenRef{ID: "jti2"}}, nil)
	wantErr(t, err, store.ErrReplayed)
	if revoked, err := st.IsTokenRevoked(ctx, "jti1"); err != nil || !revoked {
		t.Fatalf("replay left the access token active (%v)", err)
	}
	if revoked, _ := st.IsTokenRevoked(ctx, "jti2"); revoked {
		t.Fatal("the replay's own token id was recorded")
	}
	gotRT, err := st.GetRefreshToken(ctx, store.Hash("rt1"))
	must(t, err)
	if !gotRT.FamilyRevoked {
		t.Fatal("replay left the refresh token's family active")
	}
	next := store.RefreshToken{Hash: store.Hash("rt2"), ClientID: "app", UserID: "u1", ExpiresAt: t0.Add(24 * time.Hour)}
	wantErr(t, st.RotateRefreshToken(ctx, store.Hash("rt1"), t0.Add(3*time.Minute), next, store.TokenRef{ID: "jti3", ExpiresAt: t0.Add(time.Hour)}), store.ErrRevoked)
}

func testRefreshRotation(t *testing.T, st store.Store) {
	ctx := context.Background()
	issueCode(t, st, "r1", "code1")
	issued := store.Issued{AccessToken: store.TokenRef{ID: "a1", ExpiresAt: t0.Add(time.Hour)}, RefreshFamily: "fam1"}
	rt1 := store.RefreshToken{Hash: store.Hash("rt1"), FamilyID: "fam1", ClientID: "app", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	must(t, st.RedeemCode(ctx, store.Hash("code1"), t0.Add(time.Minute), issued, &rt1))

	rt2 := store.RefreshToken{Hash: store.Hash("rt2"), ClientID: "app", UserID: "u1", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	must(t, st.RotateRefreshToken(ctx, rt1.Hash, t0.Add(2*time.Minute), rt2, store.TokenRef{ID: "a2", ExpiresAt: t0.Add(time.Hour)}))
	got, err := st.GetRefreshToken(ctx, rt2.Hash)
	must(t, err)
	if got.FamilyID != "fam1" {
		t.Fatalf("successor not in the family: %+v", got)
	}
	old, _ := st.GetRefreshToken(ctx, rt1.Hash)
	if old.RotatedAt.IsZero() {
		t.Fatal("used refresh token not marked rotated")
	}
	// Presenting rt1 again is reuse: the family and every access token it issued die.
	rt3 := store.RefreshToken{Hash: store.Hash("rt3"), ClientID: "app", UserID: "u1", ExpiresAt: t0.Add(24 * time.Hour)}
	err = st.RotateRefreshToken(ctx, rt1.Hash, t0.Add(3*time.Minute), rt3, store.TokenRef{ID: "a3", ExpiresAt: t0.Add(time.Hour)})
	wantErr(t, err, store.ErrReused)
	for _, jti := range []string{"a1", "a2"} {
		if revoked, _ := st.IsTokenRevoked(ctx, jti); !revoked {
			t.Fatalf("access token %s still active after reuse", jti)
		}
	}
	if _, err := st.GetRefreshToken(ctx, rt3.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reuse stored a successor: %v", err)
	}
	wantErr(t, st.RotateRefreshToken(ctx, rt2.Hash, t0.Add(4*time.Minute), rt3, store.TokenRef{ID: "a3"}), store.ErrRevoked)

	// Expiry.
	issueCode(t, st, "r2", "code2")
	rt4 := store.RefreshToken{Hash: store.Hash("rt4"), FamilyID: "fam2", ClientID: "app", UserID: "u1", ExpiresAt: t0.Add(time.Hour)}
	must(t, st.RedeemCode(ctx, store.Hash("code2"), t0.Add(time.Minute), store.Issued{AccessToken: store.TokenRef{ID: "a4", ExpiresAt: t0.Add(time.Hour)}, RefreshFamily: "fam2"}, &rt4))
	wantErr(t, st.RotateRefreshToken(ctx, rt4.Hash, t0.Add(time.Hour), rt3, store.TokenRef{ID: "a5"}), store.ErrExpired)
	must(t, st.RevokeFamily(ctx, "fam2", t0.Add(2*time.Minute)))
	if got, _ := st.GetRefreshToken(ctx, rt4.Hash); !got.FamilyRevoked {
		t.Fatal("RevokeFamily left the family active")
	}
	if revoked, _ := st.IsTokenRevoked(ctx, "a4"); !revoked {
		t.Fatal("RevokeFamily left its access token active")
	}
	wantErr(t, st.RevokeFamily(ctx, "nope", t0), store.ErrNotFound)
}

func testRevokedTokens(t *testing.T, st store.Store) {
	ctx := context.Background()
	must(t, st.RevokeToken(ctx, store.TokenRef{ID: "j1", ExpiresAt: t0.Add(time.Hour)}))
	must(t, st.RevokeToken(ctx, store.TokenRef{ID: "j1", ExpiresAt: t0.Add(time.Hour)}))
	if r, err := st.IsTokenRevoked(ctx, "j1"); err != nil || !r {
		t.Fatalf("IsTokenRevoked(j1) = %v, %v", r, err)
	}
	if r, _ := st.IsTokenRevoked(ctx, "j2"); r {
		t.Fatal("unknown id reported revoked")
	}
	wantErr(t, st.RevokeToken(ctx, store.TokenRef{}), store.ErrInvalid)
}

func testSigningKeys(t *testing.T, st store.Store) {
	ctx := context.Background()
	keys, err := st.ListSigningKeys(ctx)
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("new store has keys: %+v", keys)
	}
	k1 := store.SigningKey{ID: "k1", Algorithm: "RS256", Private: []byte{1}, CreatedAt: t0, ActivatesAt: t0}
	k2 := store.SigningKey{ID: "k2", Algorithm: "RS256", Private: []byte{2}, CreatedAt: t0.Add(time.Hour), ActivatesAt: t0.Add(2 * time.Hour)}
	must(t, st.UpdateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) { return append(ks, k2, k1), nil }))
	keys, _ = st.ListSigningKeys(ctx)
	if len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("keys not oldest first: %+v", keys)
	}
	must(t, st.UpdateSigningKeys(ctx, func(ks []store.SigningKey) ([]store.SigningKey, error) { return ks[1:], nil }))
	keys, _ = st.ListSigningKeys(ctx)
	if len(keys) != 1 || keys[0].ID != "k2" || keys[0].Private[0] != 2 {
		t.Fatalf("after removal: %+v", keys)
	}
	refuse := errors.New("refused")
	wantErr(t, st.UpdateSigningKeys(ctx, func([]store.SigningKey) ([]store.SigningKey, error) { return nil, refuse }), refuse)
	keys, _ = st.ListSigningKeys(ctx)
	if len(keys) != 1 {
		t.Fatal("a failed update changed the keys")
	}
}

func testSecrets(t *testing.T, st store.Store) {
	ctx := context.Background()
	a, err := st.Secret(ctx, "csrf", []byte("first"))
	must(t, err)
	b, err := st.Secret(ctx, "csrf", []byte("second"))
	must(t, err)
	if string(a) != "first" || string(b) != "first" {
		t.Fatalf("Secret = %q then %q, want the first value twice", a, b)
	}
}

func testSeedMarks(t *testing.T, st store.Store) {
	ctx := context.Background()
	if applied, err := st.SeedApplied(ctx, "client\x00svc\x00d1"); err != nil || applied {
		t.Fatalf("new store: SeedApplied = %v, %v", applied, err)
	}
	must(t, st.MarkSeedApplied(ctx, "client\x00svc\x00d1", t0))
	must(t, st.MarkSeedApplied(ctx, "client\x00svc\x00d1", t0.Add(time.Hour)))
	if applied, err := st.SeedApplied(ctx, "client\x00svc\x00d1"); err != nil || !applied {
		t.Fatalf("after marking: SeedApplied = %v, %v", applied, err)
	}
	if applied, _ := st.SeedApplied(ctx, "client\x00svc\x00d2"); applied {
		t.Fatal("another key reported applied")
	}
	// Marks survive what they describe: removing the client keeps them,
	// and sweeping never removes them.
	must(t, st.CreateClient(ctx, store.Client{ID: "svc", SecretHash: store.Hash("s"), GrantTypes: []string{store.GrantClientCredentials}, CreatedAt: t0}))
	must(t, st.DeleteClient(ctx, "svc"))
	if _, err := st.DeleteExpired(ctx, t0.Add(1000*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if applied, _ := st.SeedApplied(ctx, "client\x00svc\x00d1"); !applied {
		t.Fatal("the mark did not survive a removal and a sweep")
	}
	wantErr(t, st.MarkSeedApplied(ctx, "", t0), store.ErrInvalid)
}

func testDeleteExpired(t *testing.T, st store.Store) {
	ctx := context.Background()
	must(t, st.CreateUser(ctx, store.User{ID: "u1", Username: "alice"}))
	must(t, st.CreateSession(ctx, store.Session{ID: "s-old", UserID: "u1", ExpiresAt: t0.Add(time.Minute)}))
	must(t, st.CreateSession(ctx, store.Session{ID: "s-new", UserID: "u1", ExpiresAt: t0.Add(time.Hour)}))
	must(t, st.RevokeToken(ctx, store.TokenRef{ID: "j-old", ExpiresAt: t0.Add(time.Minute)}))
	must(t, st.RevokeToken(ctx, store.TokenRef{ID: "j-new", ExpiresAt: t0.Add(time.Hour)}))
	issueCode(t, st, "r-old", "c-old")
	ar := newAuthRequest("r-new")
	ar.ExpiresAt = t0.Add(time.Hour)
	must(t, st.CreateAuthRequest(ctx, ar))
	// A redeemed code is kept while the access token issued from it lives.
	issueCode(t, st, "r-redeemed", "c-redeemed")
	rt := store.RefreshToken{Hash: "rt", FamilyID: "f", ClientID: "app", UserID: "u1", ExpiresAt: t0.Add(30 * time.Minute)}
	must(t, st.RedeemCode(ctx, store.Hash("c-redeemed"), t0.Add(time.Minute), store.Issued{AccessToken: store.TokenRef{ID: "a", ExpiresAt: t0.Add(20 * time.Minute)}, RefreshFamily: "f"}, &rt))

	n, err := st.DeleteExpired(ctx, t0.Add(15*time.Minute))
	must(t, err)
	if n < 3 {
		t.Fatalf("DeleteExpired removed %d records, want at least 3", n)
	}
	_, err = st.GetSession(ctx, "s-old")
	wantErr(t, err, store.ErrNotFound)
	_, err = st.GetSession(ctx, "s-new")
	must(t, err)
	if r, _ := st.IsTokenRevoked(ctx, "j-old"); r {
		t.Fatal("expired revoked id kept")
	}
	if r, _ := st.IsTokenRevoked(ctx, "j-new"); !r {
		t.Fatal("live revoked id swept")
	}
	_, err = st.GetAuthRequest(ctx, "r-old")
	wantErr(t, err, store.ErrNotFound)
	_, err = st.GetAuthRequestByCode(ctx, store.Hash("c-old"))
	wantErr(t, err, store.ErrNotFound)
	_, err = st.GetAuthRequest(ctx, "r-new")
	must(t, err)
	_, err = st.GetAuthRequestByCode(ctx, store.Hash("c-redeemed"))
	must(t, err)
	_, err = st.GetRefreshToken(ctx, "rt")
	must(t, err)

	_, err = st.DeleteExpired(ctx, t0.Add(2*time.Hour))
	must(t, err)
	_, err = st.GetAuthRequestByCode(ctx, store.Hash("c-redeemed"))
	wantErr(t, err, store.ErrNotFound)
	_, err = st.GetRefreshToken(ctx, "rt")
	wantErr(t, err, store.ErrNotFound)
	_, err = st.GetSession(ctx, "s-new")
	wantErr(t, err, store.ErrNotFound)
	n, err = st.DeleteExpired(ctx, t0.Add(2*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("second sweep removed %d records", n)
	}
}

func testDeleteCascades(t *testing.T, st store.Store) {
	ctx := context.Background()
	must(t, st.CreateClient(ctx, store.Client{ID: "app", Public: true}))
	must(t, st.CreateUser(ctx, store.User{ID: "u1", Username: "alice"}))
	must(t, st.PutConsent(ctx, store.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid"}}))
	must(t, st.CreateSession(ctx, store.Session{ID: "s", UserID: "u1", ExpiresAt: t0.Add(time.Hour)}))
	issueCode(t, st, "r1", "code1")
	rt := store.RefreshToken{Hash: "rt", FamilyID: "f", ClientID: "app", UserID: "u1", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, st.RedeemCode(ctx, store.Hash("code1"), t0.Add(time.Minute), store.Issued{AccessToken: store.TokenRef{ID: "a", ExpiresAt: time.Now().Add(time.Hour)}, RefreshFamily: "f"}, &rt))

	must(t, st.DeleteClient(ctx, "app"))
	_, err := st.GetConsent(ctx, "u1", "app")
	wantErr(t, err, store.ErrNotFound)
	if got, _ := st.GetRefreshToken(ctx, "rt"); !got.FamilyRevoked {
		t.Fatal("deleting the client left its refresh tokens active")
	}
	must(t, st.DeleteUser(ctx, "u1"))
	_, err = st.GetSession(ctx, "s")
	wantErr(t, err, store.ErrNotFound)
}
