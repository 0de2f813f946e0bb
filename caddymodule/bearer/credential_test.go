package bearer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

func TestCredential(t *testing.T) {
	p := &Provider{maxTokenBytes: DefaultMaxTokenBytes}
	long := strings.Repeat("a", DefaultMaxTokenBytes+1)
	tests := []struct {
		name        string
		headers     []string
		wantToken   string
		wantPresent bool
		wantReason  string
	}{
		{name: "no Authorization header"},
		{name: "Basic scheme", headers: []string{"Basic dXNlcjpwYXNz"}},
		{name: "scheme that only starts with Bearer", headers: []string{"Bearerx abc"}},
		{name: "Bearer", headers: []string{"Bearer abc.def.ghi"}, wantToken: "abc.def.ghi", wantPresent: true},
		{name: "scheme is case-insensitive", headers: []string{"bEARER abc.def.ghi"}, wantToken: "abc.def.ghi", wantPresent: true},
		{name: "several spaces", headers: []string{"Bearer   abc"}, wantToken: "abc", wantPresent: true},
		{name: "b64token with padding and its other characters", headers: []string{"Bearer a-b.c_d~e+f/g=="}, wantToken: "a-b.c_d~e+f/g==", wantPresent: true},
		{name: "two Authorization headers", headers: []string{"Bearer abc", "Bearer def"}, wantPresent: true, wantReason: ReasonRepeatedAuthorization},
		{name: "Bearer and Basic", headers: []string{"Basic dXNlcjpwYXNz", "Bearer abc"}, wantPresent: true, wantReason: ReasonRepeatedAuthorization},
		{name: "scheme alone", headers: []string{"Bearer"}, wantPresent: true, wantReason: ReasonEmptyBearer},
		{name: "scheme and spaces", headers: []string{"Bearer   "}, wantPresent: true, wantReason: ReasonEmptyBearer},
		{name: "comma", headers: []string{"Bearer abc,def"}, wantPresent: true, wantReason: ReasonBearerSyntax},
		{name: "space inside", headers: []string{"Bearer abc def"}, wantPresent: true, wantReason: ReasonBearerSyntax},
		{name: "padding only", headers: []string{"Bearer =="}, wantPresent: true, wantReason: ReasonBearerSyntax},
		{name: "padding in the middle", headers: []string{"Bearer ab=c"}, wantPresent: true, wantReason: ReasonBearerSyntax},
		{name: "too long is left to Verify", headers: []string{"Bearer " + long}, wantToken: long, wantPresent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			token, present, fail := p.Credential(r)
			if present != tt.wantPresent || token != tt.wantToken {
				t.Errorf("Credential = %q, %v; want %q, %v", token, present, tt.wantToken, tt.wantPresent)
			}
			switch {
			case tt.wantReason == "" && fail != nil:
				t.Errorf("unexpected refusal %+v", fail)
			case tt.wantReason != "" && (fail == nil || fail.Reason != tt.wantReason || fail.Status != http.StatusBadRequest || fail.Code != authn.CodeInvalidRequest):
				t.Errorf("refusal = %+v, want 400 invalid_request %s", fail, tt.wantReason)
			}
		})
	}
}

// TestAuthenticate runs the provider as Caddy's stock authentication
// handler does.
func TestAuthenticate(t *testing.T) {
	k := newRSAKey(t, "k1", jwt.SigningMethodRS256)
	iss := startIssuer(t, k)
	p := provision(t, Provider{Issuers: []string{iss.url}})

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(t, k, iss.claims(), nil))
	w := httptest.NewRecorder()
	user, ok, err := p.Authenticate(w, r)
	if err != nil || !ok {
		t.Fatalf("Authenticate = %v, %v", ok, err)
	}
	if user.ID != "user-1" || user.Metadata[authn.MetaClientID] != "client-1" ||
		user.Metadata[authn.MetaScopes] != "admin.read admin.write" || user.Metadata[authn.MetaTrack] != "bearer" || user.Metadata[authn.MetaKeyID] != "k1" {
		t.Errorf("user = %+v", user)
	}

	r.Header.Set("Authorization", "Bearer "+tamper(sign(t, k, iss.claims(), nil)))
	w = httptest.NewRecorder()
	if _, ok, err := p.Authenticate(w, r); ok || err != nil {
		t.Fatalf("tampered token: Authenticate = %v, %v", ok, err)
	}
	want := `Bearer realm="gatehouse", error="invalid_token", error_description="token signature invalid"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Errorf("challenge = %s, want %s", got, want)
	}
}
