package bearer

import (
	"net/http"
	"strings"

	"github.com/gatehouse-gw/gatehouse/caddymodule/authn"
)

// Credential extracts the token from `Authorization: Bearer <token>`
// (RFC 6750 section 2.1; the scheme is case-insensitive). A request without
// an Authorization header, or with another scheme such as Basic, carries no
// bearer credential. More than one Authorization header, an empty token, or
// a token outside RFC 6750's b64token syntax is refused as invalid_request.
// A token longer than max_token_bytes is returned unscanned so that Verify
// refuses it as too large.
func (p *Provider) Credential(r *http.Request) (string, bool, *authn.Failure) {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, refuseRepeatedAuthorization()
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	token = strings.TrimLeft(token, " ")
	switch {
	case token == "":
		return "", true, refuseEmptyBearer()
	case len(token) > p.maxTokenBytes:
		return token, true, nil
	case !isB64Token(token):
		return "", true, refuseBearerSyntax()
	}
	return token, true, nil
}

// b64tokenChars are the characters RFC 6750 allows in a bearer token before
// its optional trailing '=' padding.
var b64tokenChars = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/" {
		t[c] = true
	}
	return t
}()

// isB64Token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		if !b64tokenChars[s[i]] {
			return false
		}
	}
	return true
}
