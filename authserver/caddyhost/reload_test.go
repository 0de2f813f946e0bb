package caddyhost

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// reloadConfig logs everything, debug level up, as JSON into a file, and
// throttles an account after two failed logins.
const reloadConfig = `{
	admin localhost:%[1]d
	auto_https off
	persist_config off
	http_port %[2]d
	log {
		output file %[3]s/caddy.log
		format json
		level DEBUG
	}
}
http://localhost:%[2]d {
	gatehouse_authserver {
		issuer http://localhost:%[2]d
		store %[3]s/authserver.db
		demo_credentials %[3]s/demo-credentials.json
		access_token_lifetime %[4]s
		login_throttle {
			per_account 2
		}
	}
}
`

// TestReloadKeepsThrottleAndCounts locks an account, reloads Caddy with
// another config, and finds the account still locked: the failed-login
// counts live with the pooled store, not with the handler a reload
// replaces. The metrics count across the reload in the new config's
// registry, and Caddy's log records the events without a secret.
func TestReloadKeepsThrottleAndCounts(t *testing.T) {
	dir := t.TempDir()
	issuer := fmt.Sprintf("http://localhost:%d", reloadPort)
	tester := startCaddy(t, fmt.Sprintf(reloadConfig, adminPort, reloadPort, dir, "1h"))
	creds := readDemoCredentials(t, dir)
	before := scrapeMetrics(t)

	first := clientCredentials(t, issuer, creds)
	b := newBrowser(issuer)
	wrong := "wrong-password-0123"
	for range 2 {
		if status, _ := b.login(t, creds, creds.User.Username, wrong); status != http.StatusUnauthorized {
			t.Fatalf("wrong password answered %d", status)
		}
	}
	if status, _ := b.login(t, creds, creds.User.Username, creds.User.Password); status != http.StatusTooManyRequests {
		t.Fatalf("the right password after two failures answered %d, want 429", status)
	}

	tester.InitServer(fmt.Sprintf(reloadConfig, adminPort, reloadPort, dir, "30m"), "caddyfile")
	second := clientCredentials(t, issuer, creds)
	if second["expires_in"] != float64(1800) {
		t.Fatalf("the reload did not apply: %v", second)
	}
	if status, body := b.login(t, creds, creds.User.Username, creds.User.Password); status != http.StatusTooManyRequests {
		t.Fatalf("after the reload the locked account answered %d: %s", status, body)
	}

	after := scrapeMetrics(t)
	for series, want := range map[string]float64{
		`gatehouse_authserver_logins_total{outcome="failure"}`:                      2,
		`gatehouse_authserver_logins_total{outcome="throttled"}`:                    2,
		`gatehouse_authserver_logins_total{outcome="success"}`:                      0,
		`gatehouse_authserver_tokens_issued_total{grant_type="client_credentials"}`: 2,
		`gatehouse_authserver_tokens_issued_total{grant_type="authorization_code"}`: 0,
		`gatehouse_authserver_consents_total{outcome="granted"}`:                    0,
		`gatehouse_authserver_refresh_token_reuses_total`:                           0,
		`gatehouse_authserver_key_rotations_total`:                                  0,
		`gatehouse_authserver_code_replays_total`:                                   0,
	} {
		value, ok := after[series]
		if !ok {
			t.Errorf("metrics after the reload lack %s", series)
		} else if value-before[series] != want {
			t.Errorf("%s moved by %v, want %v", series, value-before[series], want)
		}
	}

	logged, err := os.ReadFile(filepath.Join(dir, "caddy.log"))
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(logged)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var entry map[string]any
		if json.Unmarshal(sc.Bytes(), &entry) != nil || entry["logger"] != "http.handlers.gatehouse_authserver" {
			continue
		}
		if entry["remote_ip"] == "127.0.0.1" {
			events[entry["msg"].(string)]++
		}
	}
	for msg, want := range map[string]int{
		"authserver: login failed":    2,
		"authserver: logins locked":   1,
		"authserver: login throttled": 2,
	} {
		if events[msg] != want {
			t.Errorf("Caddy's log has %d %q entries from 127.0.0.1, want %d", events[msg], msg, want)
		}
	}
	for _, secret := range []string{wrong, creds.User.Password, creds.User.Username, creds.AdminClient.ClientSecret,
		first["access_token"].(string), second["access_token"].(string)} {
		if strings.Contains(string(logged), secret) {
			t.Errorf("Caddy's log contains a secret or username: %.12s...", secret)
		}
	}
}

func readDemoCredentials(t *testing.T, dir string) *authserver.DemoCredentials {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var creds authserver.DemoCredentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	return &creds
}

// metricLine is a sample of the Prometheus text format.
var metricLine = regexp.MustCompile(`^(gatehouse_authserver_[a-z_]+(?:\{[^}]*\})?) (\S+)$`)

// scrapeMetrics reads the authserver's samples from Caddy's admin endpoint.
func scrapeMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := metricLine.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatalf("metric line %q", sc.Text())
			}
			out[m[1]] = v
		}
	}
	return out
}

// browser keeps cookies and follows redirects within the authserver, as
// a person's browser would, without JavaScript.
type browser struct {
	issuer string
	client *http.Client
}

func newBrowser(issuer string) *browser {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: &http.Transport{DisableKeepAlives: true}}
	client.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), issuer) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &browser{issuer: issuer, client: client}
}

var hiddenField = regexp.MustCompile(`name="(id|csrf_token)" value="([^"]*)"`)

// login starts an authorization request of the demo portal client and
// submits its login form; it returns the answer's status and body.
func (b *browser) login(t *testing.T, creds *authserver.DemoCredentials, username, password string) (int, string) {
	t.Helper()
	cfg := oauth2.Config{ClientID: creds.PortalClient.ClientID, RedirectURL: creds.PortalClient.RedirectURI,
		Scopes: []string{"openid", "admin.read"}, Endpoint: oauth2.Endpoint{AuthURL: b.issuer + authserver.PathAuthorize}}
	resp, err := b.client.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {username}, "password": {password}}
	for _, m := range hiddenField.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("id") == "" {
		t.Fatalf("no login form (status %d): %s", resp.StatusCode, page)
	}
	resp, err = b.client.PostForm(b.issuer+authserver.PathLogin, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
