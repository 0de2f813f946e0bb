package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// tokenResponse is the token endpoint's answer, field for field as
// IdentityServer writes it.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// audience is `aud`: a string when it has one value, else an array.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// scopeClaim is `scope`: space-delimited, or an array in IdentityServer's format.
type scopeClaim struct {
	scopes  []string
	asArray bool
}

func (s scopeClaim) MarshalJSON() ([]byte, error) {
	if s.asArray {
		return json.Marshal(s.scopes)
	}
	return json.Marshal(strings.Join(s.scopes, " "))
}

func (s *scopeClaim) UnmarshalJSON(b []byte) error {
	var joined string
	if json.Unmarshal(b, &joined) == nil {
		s.scopes = strings.Fields(joined)
		return nil
	}
	s.asArray = true
	return json.Unmarshal(b, &s.scopes)
}

// accessClaims are the claims of an RFC 9068 access token.
type accessClaims struct {
	Issuer    string     `json:"iss"`
	Subject   string     `json:"sub"`
	Audience  audience   `json:"aud"`
	ClientID  string     `json:"client_id"`
	Scope     scopeClaim `json:"scope"`
	AuthTime  int64      `json:"auth_time,omitempty"`
	SessionID string     `json:"sid,omitempty"`
	IssuedAt  int64      `json:"iat"`
	NotBefore int64      `json:"nbf"`
	Expiry    int64      `json:"exp"`
	JWTID     string     `json:"jti"`
}

// grant is who a token is for: the client, and for the code flow the user.
type grant struct {
	client    *client
	subject   string
	scopes    []string
	authTime  time.Time
	sessionID string
}

// issueAccessToken signs an access token for g.
func (s *Server) issueAccessToken(g grant) (string, store.TokenRef, error) {
	key, err := s.keys.Signer()
	if err != nil {
		return "", store.TokenRef{}, err
	}
	now := s.now()
	exp := now.Add(g.client.accessTokenLifetime())
	claims := accessClaims{
		Issuer:    s.cfg.Issuer,
		Subject:   g.subject,
		Audience:  g.client.audience(),
		ClientID:  g.client.ID,
		Scope:     scopeClaim{scopes: g.scopes, asArray: g.client.scopeFormat() == store.ScopeFormatArray},
		SessionID: g.sessionID,
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		Expiry:    exp.Unix(),
		JWTID:     randomID(),
	}
	if !g.authTime.IsZero() {
		claims.AuthTime = g.authTime.Unix()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", store.TokenRef{}, fmt.Errorf("encoding access token: %w", err)
	}
	token, err := key.SignAccessToken(payload)
	if err != nil {
		return "", store.TokenRef{}, err
	}
	return token, store.TokenRef{ID: claims.JWTID, ExpiresAt: time.Unix(claims.Expiry, 0)}, nil
}

// idClaims are the claims of an ID token. Profile claims are included by
// scope, so that a relying party that reads only the ID token (next-auth
// with idToken: true) can show the user's name.
type idClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	AuthTime  int64  `json:"auth_time"`
	Nonce     string `json:"nonce,omitempty"`
	AtHash    string `json:"at_hash"`
	SessionID string `json:"sid,omitempty"`
	userClaims
}

// userClaims are the user's claims released by scope.
type userClaims struct {
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	UpdatedAt         int64  `json:"updated_at,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     *bool  `json:"email_verified,omitempty"`
}

func claimsFor(u store.User, scopes []string) userClaims {
	var c userClaims
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			c.Name, c.GivenName, c.FamilyName = u.Name, u.GivenName, u.FamilyName
			c.PreferredUsername = u.Username
			if !u.UpdatedAt.IsZero() {
				c.UpdatedAt = u.UpdatedAt.Unix()
			}
		case oidc.ScopeEmail:
			if u.Email != "" {
				c.Email = u.Email
				verified := u.EmailVerified
				c.EmailVerified = &verified
			}
		}
	}
	return c
}

// issueIDToken signs an ID token for user, bound to accessToken by at_hash.
func (s *Server) issueIDToken(g grant, u store.User, nonce, accessToken string) (string, error) {
	key, err := s.keys.Signer()
	if err != nil {
		return "", err
	}
	atHash, err := oidc.ClaimHash(accessToken, jose.RS256)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims := idClaims{
		Issuer:     s.cfg.Issuer,
		Subject:    u.ID,
		Audience:   g.client.ID,
		Expiry:     now.Add(s.cfg.IDTokenLifetime).Unix(),
		IssuedAt:   now.Unix(),
		AuthTime:   g.authTime.Unix(),
		Nonce:      nonce,
		AtHash:     atHash,
		SessionID:  g.sessionID,
		userClaims: claimsFor(u, g.scopes),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding ID token: %w", err)
	}
	return key.SignIDToken(payload)
}

// sessionClaim is the `sid` of a session: derived from its stored id so
// that it names the session without being able to find it.
func sessionClaim(sessionID string) string {
	if sessionID == "" {
		return ""
	}
	return store.Hash("sid\x00" + sessionID)[:32]
}

var errBadToken = errors.New("token not issued by this server, expired or revoked")

// verifySigned checks that token is a JWS of the given typ signed by one
// of this server's published keys and returns its payload.
func (s *Server) verifySigned(token, typ string) ([]byte, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errBadToken
	}
	h := jws.Signatures[0].Protected
	if got, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(got, typ) {
		return nil, errBadToken
	}
	key, ok := s.keys.Published(h.KeyID)
	if !ok {
		return nil, errBadToken
	}
	payload, err := jws.Verify(key.PublicKey())
	if err != nil {
		return nil, errBadToken
	}
	return payload, nil
}

// verifyAccessToken checks an access token this server issued: signature,
// issuer, validity period and revocation.
func (s *Server) verifyAccessToken(ctx context.Context, token string) (accessClaims, error) {
	var claims accessClaims
	payload, err := s.verifySigned(token, "at+jwt")
	if err != nil {
		return claims, err
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Issuer != s.cfg.Issuer {
		return claims, errBadToken
	}
	now := s.now().Unix()
	if now >= claims.Expiry || now < claims.NotBefore {
		return claims, errBadToken
	}
	revoked, err := s.st.IsTokenRevoked(ctx, claims.JWTID)
	if err != nil {
		return claims, err
	}
	if revoked {
		return claims, errBadToken
	}
	return claims, nil
}
