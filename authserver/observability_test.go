package authserver_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/oauth2"

	"github.com/gatehouse-gw/gatehouse/authserver"
)

// counters reads every counter of the authserver's collectors, by series
// ("name{label=value,...}", labels sorted as Prometheus sorts them).
func counters(t *testing.T) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(authserver.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out[series(f, m)] = m.GetCounter().GetValue()
		}
	}
	return out
}

func series(f *dto.MetricFamily, m *dto.Metric) string {
	var labels []string
	for _, l := range m.GetLabel() {
		labels = append(labels, l.GetName()+"="+l.GetValue())
	}
	return f.GetName() + "{" + strings.Join(labels, ",") + "}"
}

// logEntries decodes the server's JSON log lines.
func (e *env) logEntries() []map[string]any {
	e.t.Helper()
	var entries []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			e.t.Fatalf("log line %q: %v", line, err)
		}
		entries = append(entries, entry)
	}
	return entries
}

// findLog returns the entries with msg whose fields include want.
func findLog(entries []map[string]any, msg string, want map[string]any) []map[string]any {
	var found []map[string]any
	for _, entry := range entries {
		if entry["msg"] != msg {
			continue
		}
		match := true
		for k, v := range want {
			match = match && entry[k] == v
		}
		if match {
			found = append(found, entry)
		}
	}
	return found
}

// TestSecurityEventsCountedAndLogged drives every security event through
// the real HTTP endpoints and checks that each moves its counter, is
// logged with what an operator needs, and that no secret reaches the log.
func TestSecurityEventsCountedAndLogged(t *testing.T) {
	e := newEnv(t)
	before := counters(t)
	var secrets []string // every secret the test sees; none may be logged
	keep := func(values ...string) {
		for _, v := range values {
			if v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	keep(testPassword, e.serviceSecret, e.webAppSecret)

	// Token endpoint: one token, three kinds of error.
	tok := e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin.read"}}, serviceID, e.serviceSecret)
	keep(tok.Access)
	e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}}, serviceID, "wrong-secret-0123456789")
	e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, serviceID, e.serviceSecret)
	e.post(authserver.PathToken, url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {testPassword}}, serviceID, e.serviceSecret)
	keep("wrong-secret-0123456789")

	// Logins: a username that is really a password, wrong passwords up to
	// the lockout, and one attempt while locked.
	b := e.newBrowser()
	login := func(username, password string) page {
		form := e.loginPage(b)
		keep(form.Get("csrf_token"))
		form.Set("username", username)
		form.Set("password", password)
		return b.postForm(authserver.PathLogin, form)
	}
	typedPassword := "Tr0ub4dor&3-typed-into-username"
	keep(typedPassword)
	login(typedPassword, "anything")
	for range authserver.DefaultLoginsPerAccount {
		login(testUser, "wrong-password-17")
	}
	keep("wrong-password-17")
	login(testUser, testPassword)
	e.clock.Advance(authserver.DefaultLoginThrottleWindow)

	// Code flow: login, consent granted, exchange, replay; a remembered
	// consent; refresh, and the reuse of a spent refresh token.
	verifier := oauth2.GenerateVerifier()
	code := e.codeFor(b, verifier)
	first := e.exchange(code, verifier, appRedirect)
	e.exchange(code, verifier, appRedirect)
	code2 := e.codeFor(b, verifier)
	second := e.exchange(code2, verifier, appRedirect)
	refreshed := e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.Refresh}, "client_id": {appID}}, "", "")
	e.post(authserver.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.Refresh}, "client_id": {appID}}, "", "")
	keep(verifier, code, code2, first.Access, first.ID, first.Refresh, second.Access, second.ID, second.Refresh,
		refreshed.Access, refreshed.ID, refreshed.Refresh)

	// A consent asked for again (prompt=consent), in another browser, and denied.
	other := e.newBrowser()
	form := e.loginPage(other, oauth2.SetAuthURLParam("prompt", "consent"))
	form.Set("username", testUser)
	form.Set("password", testPassword)
	consent := other.postForm(authserver.PathLogin, form).fields(t)
	consent.Set("decision", "deny")
	other.postForm(authserver.PathConsent, consent)

	// Key rotation: the next key is published a lead before its turn, then signs.
	oldKID := kidOf(t, tok.Access)
	e.clock.Advance(authserver.DefaultKeyRotationInterval)
	if err := e.srv.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(authserver.DefaultKeyPublishLead)
	if err := e.srv.Maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	newKID := kidOf(t, e.post(authserver.PathToken, url.Values{"grant_type": {"client_credentials"}}, serviceID, e.serviceSecret).Access)
	if newKID == oldKID {
		t.Fatal("the key did not rotate")
	}

	after := counters(t)
	for s, want := range map[string]float64{
		"gatehouse_authserver_tokens_issued_total{grant_type=client_credentials}":                     2,
		"gatehouse_authserver_tokens_issued_total{grant_type=authorization_code}":                     2,
		"gatehouse_authserver_tokens_issued_total{grant_type=refresh_token}":                          1,
		"gatehouse_authserver_token_errors_total{error=invalid_client,grant_type=client_credentials}": 1,
		"gatehouse_authserver_token_errors_total{error=invalid_scope,grant_type=client_credentials}":  1,
		"gatehouse_authserver_token_errors_total{error=unsupported_grant_type,grant_type=other}":      1,
		"gatehouse_authserver_token_errors_total{error=invalid_grant,grant_type=authorization_code}":  1,
		"gatehouse_authserver_token_errors_total{error=invalid_grant,grant_type=refresh_token}":       1,
		"gatehouse_authserver_logins_total{outcome=failure}":                                          1 + float64(authserver.DefaultLoginsPerAccount),
		"gatehouse_authserver_logins_total{outcome=throttled}":                                        1,
		"gatehouse_authserver_logins_total{outcome=success}":                                          2,
		"gatehouse_authserver_consents_total{outcome=granted}":                                        1,
		"gatehouse_authserver_consents_total{outcome=remembered}":                                     1,
		"gatehouse_authserver_consents_total{outcome=denied}":                                         1,
		"gatehouse_authserver_refresh_token_reuses_total{}":                                           1,
		"gatehouse_authserver_code_replays_total{}":                                                   1,
		"gatehouse_authserver_key_rotations_total{}":                                                  1,
	} {
		if got := after[s] - before[s]; got != want {
			t.Errorf("%s moved by %v, want %v", s, got, want)
		}
	}

	logs := e.logEntries()
	failed := findLog(logs, "authserver: login failed", map[string]any{"reason": "wrong_password", "remote_ip": "127.0.0.1", "client_id": appID})
	if len(failed) != authserver.DefaultLoginsPerAccount || failed[0]["user_id"] == nil || len(failed[0]["account"].(string)) != 16 {
		t.Errorf("wrong-password entries: %v", failed)
	}
	if typed := findLog(logs, "authserver: login failed", map[string]any{"reason": "unknown_user"}); len(typed) != 1 ||
		typed[0]["user_id"] != nil || typed[0]["account"] == failed[0]["account"] {
		t.Errorf("unknown-user entries: %v", typed)
	}
	if locked := findLog(logs, "authserver: logins locked", map[string]any{"limit": "account", "account": failed[0]["account"]}); len(locked) != 1 {
		t.Errorf("lockout entries: %v", locked)
	}
	for msg, fields := range map[string]map[string]any{
		"authserver: login throttled":                      {"limit": "account", "account": failed[0]["account"], "remote_ip": "127.0.0.1"},
		"authserver: login succeeded":                      {"client_id": appID, "remote_ip": "127.0.0.1"},
		"authserver: consent":                              {"outcome": "denied", "client_id": appID},
		"authserver: refresh token reused; family revoked": {"client_id": appID},
		"authserver: authorization code replayed; tokens of its first exchange revoked": {"client_id": appID, "issued_to": appID},
		"authserver: signing key published":                                             {"kid": newKID, "current_kid": oldKID},
		"authserver: signing key now signs":                                             {"kid": newKID, "previous_kid": oldKID},
		"authserver: token issued":                                                      {"grant_type": "client_credentials", "client_id": serviceID, "level": "DEBUG"},
	} {
		if len(findLog(logs, msg, fields)) == 0 {
			t.Errorf("no %q entry with %v", msg, fields)
		}
	}
	if reused := findLog(logs, "authserver: refresh token reused; family revoked", nil); len(reused) == 1 && reused[0]["family_id"] == "" {
		t.Errorf("reuse entry without family: %v", reused)
	}

	raw := e.logs.String()
	for _, secret := range append(secrets, testUser) {
		if strings.Contains(raw, secret) {
			t.Errorf("the log contains a secret or username: %.12s...", secret)
		}
	}
}
