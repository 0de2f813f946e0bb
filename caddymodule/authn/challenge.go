package authn

import "strings"

// Challenge formats one WWW-Authenticate challenge (RFC 6750 section 3)
// for scheme and realm. With f nil it is the bare challenge sent when a
// request carries no credential; otherwise it names f's error code and
// description, and, for insufficient_scope, the scopes needed.
func Challenge(scheme, realm string, f *Failure, scope string) string {
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString(` realm="`)
	b.WriteString(quotable(realm))
	b.WriteByte('"')
	if f != nil {
		b.WriteString(`, error="`)
		b.WriteString(quotable(f.Code))
		b.WriteString(`", error_description="`)
		b.WriteString(quotable(f.Description))
		b.WriteByte('"')
		if scope != "" {
			b.WriteString(`, scope="`)
			b.WriteString(quotable(scope))
			b.WriteByte('"')
		}
	}
	return b.String()
}

// quotable keeps only the characters RFC 6750 allows inside its quoted
// strings (%x20-21 / %x23-5B / %x5D-7E), so no value can break the header.
func quotable(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			out = append(out, c)
		}
	}
	return string(out)
}
