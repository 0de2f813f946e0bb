package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// secret is a credential a test used, by what it is.
type secret struct{ name, value string }

// secrets collects every credential a run used, for the log check.
type secrets []secret

func (s *secrets) add(name, value string) {
	if value != "" {
		*s = append(*s, secret{name, value})
	}
}

// addToken records a JWT and, on its own, its signature: a log line that
// cut the token would still leak it.
func (s *secrets) addToken(name, token string) {
	s.add(name, token)
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		s.add(name+" signature", token[i+1:])
	}
}

// TestSeedDocument runs every request of getting-your-first-token.txt
// against the default start, as written but for ids and secrets, then
// restarts on the same data and checks nothing new was made.
func TestSeedDocument(t *testing.T) {
	dataDir := t.TempDir()
	s := startSystem(t, dataDir)
	checkCredentialsShape(t, s.credsFile, s.creds)

	var used secrets
	rotated := runSeedDocument(t, s, &used)

	// A restart on the same data reuses it: no new credentials, the
	// old ones still work.
	s.stop(t)
	s2 := startSystem(t, dataDir)
	if !bytes.Equal(s2.credsFile, s.credsFile) {
		t.Errorf("the restart rewrote demo-credentials.json:\nbefore %s\nafter %s", s.credsFile, s2.credsFile)
	}
	if strings.Contains(s2.proc.Logs(), "demo credentials") {
		t.Errorf("the restart created or printed demo credentials again:\n%s", s2.proc.Logs())
	}
	admin := adminToken(t, s2.creds, "admin.read")
	expect(t, "admin API with a token after the restart", call(t, newGet(clientsURL, "Authorization", "Bearer "+admin.AccessToken)), http.StatusOK)
	expectMember(t, "demo POS key after the restart", call(t, posLookup(s.creds.POSKey.APIKey)), s.creds.POSKey.ID)
	expectMember(t, "rotated key after the restart", call(t, posLookup(rotated.APIKey)), rotated.ID)
	expectRefused(t, "key rotated out, after the restart", call(t, posLookup(rotated.oldKey)), http.StatusUnauthorized, "ApiKey", "invalid_token")
	s2.stop(t)
}

// checkCredentialsShape checks demo-credentials.json against issue 5:
// every documented key present and non-empty (unknown keys were already
// refused when it was decoded), the issuer and the seed's redirect.
func checkCredentialsShape(t *testing.T, raw []byte, c demoCredentials) {
	t.Helper()
	values := map[string]string{
		"issuer":                     c.Issuer,
		"admin_client.client_id":     c.AdminClient.ClientID,
		"admin_client.client_secret": c.AdminClient.ClientSecret,
		"portal_client.client_id":    c.PortalClient.ClientID,
		"portal_client.redirect_uri": c.PortalClient.RedirectURI,
		"user.username":              c.User.Username,
		"user.password":              c.User.Password,
		"pos_key.id":                 c.POSKey.ID,
		"pos_key.api_key":            c.POSKey.APIKey,
	}
	for key, v := range values {
		if v == "" {
			t.Errorf("demo-credentials.json: %s is empty or missing\n%s", key, raw)
		}
	}
	if c.Issuer != issuer {
		t.Errorf("issuer %q, want %q", c.Issuer, issuer)
	}
	if c.PortalClient.RedirectURI != portalCallback {
		t.Errorf("portal redirect_uri %q, want %q", c.PortalClient.RedirectURI, portalCallback)
	}
	if !strings.HasPrefix(c.POSKey.APIKey, "rsa_live_") {
		t.Errorf("pos_key.api_key does not start with rsa_live_")
	}
	if !slices.Equal(c.AdminClient.Scopes, []string{"admin.read", "admin.write"}) {
		t.Errorf("admin scopes %v, want exactly [admin.read admin.write]", c.AdminClient.Scopes)
	}
}

// rotatedClient is a client created and rotated through the admin API.
type rotatedClient struct {
	issuedClient
	oldKey string
}

// runSeedDocument makes every request of the seed document and the
// refusals around them, recording each credential it used.
func runSeedDocument(t *testing.T, s *system, used *secrets) rotatedClient {
	t.Helper()
	c := s.creds
	used.add("admin client secret", c.AdminClient.ClientSecret)
	used.add("demo user password", c.User.Password)
	used.add("demo POS key", c.POSKey.APIKey)

	// Client Credentials, exactly as the seed's curl sends it.
	r := call(t, newForm(tokenURL, clientCredentialsForm(c, "admin.read")))
	expect(t, "client-credentials token", r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token answer Cache-Control %q, want no-store", cc)
	}
	read := decode[tokenResponse](t, r)
	used.addToken("admin.read access token", read.AccessToken)
	if read.ExpiresIn != 3600 || read.TokenType != "Bearer" || read.AccessToken == "" {
		t.Errorf("token answer %s, want an access_token, expires_in 3600, token_type Bearer", r.body)
	}
	if h := jwtHeader(t, read.AccessToken); h["alg"] != "RS256" || h["typ"] != "at+jwt" {
		t.Errorf("access token header %v, want alg RS256, typ at+jwt", h)
	}
	expect(t, "admin API with the token", call(t, newGet(clientsURL, "Authorization", "Bearer "+read.AccessToken)), http.StatusOK)

	// API Key: the demo POS key, used directly.
	expectMember(t, "member lookup with the demo key", call(t, posLookup(c.POSKey.APIKey)), c.POSKey.ID)

	// Keys are created through the admin API, which needs admin.write.
	write := adminToken(t, c, "admin.read admin.write")
	used.addToken("admin.write access token", write.AccessToken)
	created := createClient(t, write.AccessToken, "POS terminal 7")
	used.add("created API key", created.APIKey)
	expectMember(t, "member lookup with the created key", call(t, posLookup(created.APIKey)), created.ID)

	// Rotation: the old key is refused from the next request, the new
	// one accepted.
	r = call(t, newJSON(clientsURL+"/"+created.ID+"/rotate-secret", write.AccessToken, ""))
	expect(t, "rotating the key", r, http.StatusOK)
	rotated := rotatedClient{issuedClient: decode[issuedClient](t, r), oldKey: created.APIKey}
	used.add("rotated API key", rotated.APIKey)
	if rotated.ID != created.ID || !strings.HasPrefix(rotated.APIKey, "rsa_live_") || rotated.APIKey == created.APIKey {
		t.Fatalf("rotation answered %s", r.body)
	}
	expectRefused(t, "lookup with the rotated-out key", call(t, posLookup(created.APIKey)), http.StatusUnauthorized, "ApiKey", "invalid_token")
	expectMember(t, "lookup with the new key", call(t, posLookup(rotated.APIKey)), created.ID)

	runPKCE(t, s, used)
	runRefusals(t, write.AccessToken, read.AccessToken, used)
	return rotated
}

// runPKCE is the seed's PKCE section: authorize in Chromium, login,
// consent, the redirect with a code, and the code exchange with the
// verifier and no secret.
func runPKCE(t *testing.T, s *system, used *secrets) {
	t.Helper()
	c := s.creds
	verifier := randomString(t)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state := randomString(t)
	used.add("PKCE code verifier", verifier)

	// The seed's authorize request as a browser sends it (the space in
	// the scope encoded), with a state.
	authorize := authorizeURL + "?client_id=" + c.PortalClient.ClientID +
		"&redirect_uri=" + portalCallback +
		"&response_type=code" +
		"&scope=openid%20admin.read" +
		"&code_challenge=" + challenge +
		"&code_challenge_method=S256" +
		"&state=" + state
	callback := loginInBrowser(t, chromium(t), authorize, c.User.Username, c.User.Password)
	q := callback.Query()
	code := q.Get("code")
	used.add("authorization code", code)
	if code == "" || q.Get("state") != state || q.Get("error") != "" {
		t.Fatalf("callback with code %t, state %t, error %q", code != "", q.Get("state") == state, q.Get("error"))
	}

	// The exchange, as the seed lists it: no client secret.
	r := call(t, newForm(tokenURL, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"client_id":     {c.PortalClient.ClientID},
		"redirect_uri":  {portalCallback},
	}))
	expect(t, "code exchange", r, http.StatusOK)
	tok := decode[tokenResponse](t, r)
	used.addToken("PKCE access token", tok.AccessToken)
	used.addToken("ID token", tok.IDToken)
	used.add("refresh token", tok.RefreshToken)
	if tok.AccessToken == "" || tok.IDToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("code exchange answered %s, want an access token and an ID token", r.body)
	}
	if h := jwtHeader(t, tok.AccessToken); h["alg"] != "RS256" || h["typ"] != "at+jwt" {
		t.Errorf("PKCE access token header %v, want alg RS256, typ at+jwt", h)
	}

	// The ID token verifies against the running issuer's keys.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, client)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovering %s: %v", issuer, err)
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: c.PortalClient.ClientID}).Verify(ctx, tok.IDToken)
	if err != nil {
		t.Fatalf("verifying the ID token: %v", err)
	}

	// The user's token works on the admin API (admin.read), as the
	// admin portals use it; the upstream sees the user.
	r = call(t, newGet(adminEchoURL, "Authorization", "Bearer "+tok.AccessToken))
	expect(t, "admin upstream with the PKCE token", r, http.StatusOK)
	e := decode[echo](t, r)
	if e.Identity.Track != "bearer" || e.Identity.Subject != idToken.Subject || e.Identity.ClientID != c.PortalClient.ClientID {
		t.Errorf("admin upstream saw %+v, want the bearer track, subject %s, client %s", e.Identity, idToken.Subject, c.PortalClient.ClientID)
	}
	if e.Credentials.Authorization || e.Credentials.APIKey {
		t.Errorf("a credential reached the admin upstream: %+v", e.Credentials)
	}
}

// runRefusals: no key, bad keys, no token, a forged token, and a token
// without the scope a change needs.
func runRefusals(t *testing.T, writeToken, readToken string, used *secrets) {
	t.Helper()
	expectRefused(t, "POS without a key", call(t, newGet(posLookupURL)), http.StatusUnauthorized, "ApiKey", "")

	format, err := keystore.NewKeyFormat(keystore.DefaultKeyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	unknown := format.Generate() // well-formed, in no store
	malformed := "rsa_live_" + randomString(t)
	used.add("unknown API key", unknown)
	used.add("malformed API key", malformed)
	expectRefused(t, "POS with an unknown key", call(t, posLookup(unknown)), http.StatusUnauthorized, "ApiKey", "invalid_token")
	expectRefused(t, "POS with a malformed key", call(t, posLookup(malformed)), http.StatusUnauthorized, "ApiKey", "invalid_token")

	expectRefused(t, "admin API without a token", call(t, newGet(clientsURL)), http.StatusUnauthorized, "Bearer", "")
	forged := readToken[:len(readToken)-8] + "AAAAAAAA"
	used.addToken("forged token", forged)
	expectRefused(t, "admin API with a forged token", call(t, newGet(clientsURL, "Authorization", "Bearer "+forged)), http.StatusUnauthorized, "Bearer", "invalid_token")

	before := listClients(t, writeToken)
	r := call(t, newJSON(clientsURL, readToken, `{"name": "not allowed", "scopes": ["pos.read"]}`))
	expectRefused(t, "create with an admin.read token", r, http.StatusForbidden, "Bearer", "insufficient_scope")
	// RFC 6750 section 3: scope lists the scopes the request needs.
	if ch := r.header.Get("WWW-Authenticate"); !regexp.MustCompile(`scope="([^"]* )?admin\.write( [^"]*)?"`).MatchString(ch) {
		t.Errorf("403 challenge %q does not name the scope admin.write", ch)
	}
	// The rest of /admin/api/ goes to the admin upstream under the same
	// rule: reads with admin.read, changes only with admin.write.
	upstreamURL := "http://localhost:5001/admin/api/v1/reports"
	if r := call(t, newGet(upstreamURL, "Authorization", "Bearer "+readToken)); r.status != http.StatusOK {
		t.Errorf("admin upstream read with admin.read: %d %s", r.status, r.body)
	}
	expectRefused(t, "admin upstream change with an admin.read token",
		call(t, newJSON(upstreamURL, readToken, `{}`)), http.StatusForbidden, "Bearer", "insufficient_scope")
	if r := call(t, newJSON(upstreamURL, writeToken, `{}`)); r.status != http.StatusOK {
		t.Errorf("admin upstream change with admin.write: %d %s", r.status, r.body)
	}
	if after := listClients(t, writeToken); len(after.Clients) != len(before.Clients) {
		t.Errorf("the refused create changed the clients: %d before, %d after", len(before.Clients), len(after.Clients))
	}
}

// randomString is 32 random bytes, base64url: a PKCE verifier, a state.
func randomString(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// readFile reads a file the test needs.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
