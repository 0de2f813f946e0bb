package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// client talks to the system as curl would: one request, no redirects
// followed, bounded in time.
var client = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// maxBody bounds what a test reads from one answer.
const maxBody = 1 << 20

// response is an answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.status, r.body)
}

// send makes the request with client; it never fails the test, so load
// goroutines can use it.
func send(req *http.Request) (response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// call makes the request and fails the test if no answer comes.
func call(t *testing.T, req *http.Request) response {
	t.Helper()
	r, err := send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return r
}

// newRequest builds a request with headers given as name, value pairs.
func newRequest(method, target string, body io.Reader, header ...string) *http.Request {
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		panic(err) // the tests' own URLs
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func newGet(target string, header ...string) *http.Request {
	return newRequest(http.MethodGet, target, nil, header...)
}

// newForm is curl's -d: a form POST.
func newForm(target string, form url.Values) *http.Request {
	return newRequest(http.MethodPost, target, strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
}

// newJSON is a POST of a JSON body with a bearer token.
func newJSON(target, token, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := newRequest(http.MethodPost, target, rd, "Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// expect fails the test unless the answer has the status.
func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got %s, want status %d", what, r, status)
	}
}

// decode reads a JSON answer into a T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %T from %s: %v", v, r, err)
	}
	return v
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// clientCredentialsForm is the seed document's token request.
func clientCredentialsForm(creds demoCredentials, scope string) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.AdminClient.ClientID},
		"client_secret": {creds.AdminClient.ClientSecret},
		"scope":         {scope},
	}
}

// adminToken gets a client-credentials token for the demo admin client.
func adminToken(t *testing.T, creds demoCredentials, scope string) tokenResponse {
	t.Helper()
	r := call(t, newForm(tokenURL, clientCredentialsForm(creds, scope)))
	expect(t, "client-credentials token ("+scope+")", r, http.StatusOK)
	return decode[tokenResponse](t, r)
}

// jwtHeader decodes a compact JWT's protected header.
func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	return h
}

// issuedClient is the admin API's answer to a create or a rotation.
type issuedClient struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Status    string   `json:"status"`
	KeyPrefix string   `json:"key_prefix"`
	APIKey    string   `json:"api_key"`
}

// clientPage is the admin API's list of clients.
type clientPage struct {
	Clients    []issuedClient `json:"clients"`
	NextCursor *string        `json:"next_cursor"`
}

// createClient creates an API-key client through the admin API.
func createClient(t *testing.T, token, name string) issuedClient {
	t.Helper()
	r := call(t, newJSON(clientsURL, token, fmt.Sprintf(`{"name": %q, "scopes": ["pos.read"]}`, name)))
	expect(t, "creating a client", r, http.StatusCreated)
	c := decode[issuedClient](t, r)
	if c.ID == "" || !strings.HasPrefix(c.APIKey, "rsa_live_") {
		t.Fatalf("created client without id or rsa_live_ key: %s", r.body)
	}
	return c
}

// listClients reads the first page of clients, which holds every client
// these tests make.
func listClients(t *testing.T, token string) clientPage {
	t.Helper()
	r := call(t, newGet(clientsURL+"?limit=500", "Authorization", "Bearer "+token))
	expect(t, "listing clients", r, http.StatusOK)
	p := decode[clientPage](t, r)
	if p.NextCursor != nil {
		t.Fatalf("more than one page of clients")
	}
	return p
}

// echo is what a stand-in upstream returns: the identity the gateway
// added and whether any credential reached it.
type echo struct {
	Member *struct {
		MemberID string `json:"member_id"`
		Phone    string `json:"phone"`
	} `json:"member"`
	Identity struct {
		ClientID string `json:"client_id"`
		Subject  string `json:"subject"`
		Scopes   string `json:"scopes"`
		Track    string `json:"track"`
		KeyID    string `json:"key_id"`
	} `json:"gateway_identity"`
	Credentials struct {
		APIKey        bool `json:"x_api_key"`
		Authorization bool `json:"authorization"`
	} `json:"credentials_received"`
}

// posLookup is the seed document's member lookup with an API key.
func posLookup(key string) *http.Request {
	return newGet(posLookupURL, "X-Api-Key", key)
}

// expectMember checks a POS answer: a member, and the identity of the
// key's client with no credential passed upstream.
func expectMember(t *testing.T, what string, r response, clientID string) {
	t.Helper()
	expect(t, what, r, http.StatusOK)
	e := decode[echo](t, r)
	if e.Member == nil || e.Member.Phone != lookupPhone || e.Member.MemberID == "" {
		t.Fatalf("%s: no member in %s", what, r.body)
	}
	if e.Identity.Track != "api_key" || e.Identity.ClientID != clientID || e.Identity.Subject == "" || e.Identity.KeyID == "" {
		t.Fatalf("%s: upstream saw identity %+v, want the api_key track and client %s", what, e.Identity, clientID)
	}
	if e.Credentials.APIKey || e.Credentials.Authorization {
		t.Fatalf("%s: a credential reached the upstream: %+v", what, e.Credentials)
	}
}

// expectRefused checks a refusal: the status, the challenge's scheme and
// (when given) its RFC 6750 error code, and an error body.
func expectRefused(t *testing.T, what string, r response, status int, scheme, errorCode string) {
	t.Helper()
	expect(t, what, r, status)
	challenge := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(challenge, scheme+" ") {
		t.Fatalf("%s: WWW-Authenticate %q, want the %s scheme", what, challenge, scheme)
	}
	if errorCode != "" && !strings.Contains(challenge, `error="`+errorCode+`"`) {
		t.Fatalf("%s: WWW-Authenticate %q, want error=%q", what, challenge, errorCode)
	}
	body := decode[struct {
		Error string `json:"error"`
	}](t, r)
	if body.Error == "" || (errorCode != "" && body.Error != errorCode) {
		t.Fatalf("%s: error body %s, want error %q", what, r.body, errorCode)
	}
}
