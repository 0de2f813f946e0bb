package authserver

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// ClientSpec describes a client to create; it is also the client entry
// of a seed file.
type ClientSpec struct {
	// ID is the client_id: letters, digits, '.', '_' and '-'.
	ID string `json:"client_id"`
	// Name is shown on the consent page.
	Name string `json:"name,omitempty"`
	// Secret fixes a confidential client's secret (at least 32
	// characters); empty generates one.
	Secret string `json:"client_secret,omitempty"`
	// Public clients have no secret and use the code flow with PKCE.
	Public                 bool     `json:"public,omitempty"`
	GrantTypes             []string `json:"grant_types"`
	Scopes                 []string `json:"scopes"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Audience               []string `json:"audience,omitempty"`
	// ScopeFormat is "string" or "array"; empty uses the server's.
	ScopeFormat string `json:"scope_format,omitempty"`
	// Lifetimes in seconds; zero uses the server's defaults.
	AccessTokenLifetime  int `json:"access_token_lifetime,omitempty"`
	RefreshTokenLifetime int `json:"refresh_token_lifetime,omitempty"`
	CodeLifetime         int `json:"code_lifetime,omitempty"`
}

// UserSpec describes a user to create; it is also the user entry of a seed file.
type UserSpec struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Name          string `json:"name,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	scopePattern    = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`) // RFC 6749 scope-token
)

func validGrant(g string) bool {
	return g == store.GrantClientCredentials || g == store.GrantAuthorizationCode || g == store.GrantRefreshToken
}

// Build checks the spec and returns the client to store and the plaintext
// secret (empty for public clients), which is shown once and never stored.
func (spec ClientSpec) Build(now time.Time) (store.Client, string, error) {
	if !clientIDPattern.MatchString(spec.ID) {
		return store.Client{}, "", fmt.Errorf("client id %q: use 1-128 letters, digits, '.', '_' or '-'", spec.ID)
	}
	if len(spec.GrantTypes) == 0 {
		return store.Client{}, "", fmt.Errorf("client %s: no grant types", spec.ID)
	}
	for _, g := range spec.GrantTypes {
		if !validGrant(g) {
			return store.Client{}, "", fmt.Errorf("client %s: unknown grant type %q (use client_credentials, authorization_code, refresh_token)", spec.ID, g)
		}
	}
	code := slices.Contains(spec.GrantTypes, store.GrantAuthorizationCode)
	if spec.Public && slices.Contains(spec.GrantTypes, store.GrantClientCredentials) {
		return store.Client{}, "", fmt.Errorf("client %s: a public client cannot use client_credentials", spec.ID)
	}
	if code && len(spec.RedirectURIs) == 0 {
		return store.Client{}, "", fmt.Errorf("client %s: the authorization_code grant needs at least one redirect URI", spec.ID)
	}
	if slices.Contains(spec.GrantTypes, store.GrantRefreshToken) && !code {
		return store.Client{}, "", fmt.Errorf("client %s: refresh_token needs authorization_code", spec.ID)
	}
	for _, uri := range append(slices.Clone(spec.RedirectURIs), spec.PostLogoutRedirectURIs...) {
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return store.Client{}, "", fmt.Errorf("client %s: redirect URI %q must be an absolute http(s) URL without fragment", spec.ID, uri)
		}
	}
	for _, s := range spec.Scopes {
		if !scopePattern.MatchString(s) {
			return store.Client{}, "", fmt.Errorf("client %s: invalid scope %q", spec.ID, s)
		}
	}
	if spec.ScopeFormat != "" && spec.ScopeFormat != store.ScopeFormatString && spec.ScopeFormat != store.ScopeFormatArray {
		return store.Client{}, "", fmt.Errorf("client %s: scope format %q: want string or array", spec.ID, spec.ScopeFormat)
	}
	if spec.AccessTokenLifetime < 0 || spec.RefreshTokenLifetime < 0 || spec.CodeLifetime < 0 {
		return store.Client{}, "", fmt.Errorf("client %s: negative lifetime", spec.ID)
	}
	c := store.Client{
		ID:                     spec.ID,
		Name:                   spec.Name,
		Public:                 spec.Public,
		GrantTypes:             slices.Clone(spec.GrantTypes),
		Scopes:                 slices.Clone(spec.Scopes),
		RedirectURIs:           slices.Clone(spec.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(spec.PostLogoutRedirectURIs),
		Audience:               slices.Clone(spec.Audience),
		ScopeFormat:            spec.ScopeFormat,
		AccessTokenLifetime:    time.Duration(spec.AccessTokenLifetime) * time.Second,
		RefreshTokenLifetime:   time.Duration(spec.RefreshTokenLifetime) * time.Second,
		CodeLifetime:           time.Duration(spec.CodeLifetime) * time.Second,
		CreatedAt:              now,
		UpdatedAt:              now,
	}
	if spec.Public {
		if spec.Secret != "" {
			return store.Client{}, "", fmt.Errorf("client %s: a public client has no secret", spec.ID)
		}
		return c, "", nil
	}
	secret := spec.Secret
	switch {
	case secret == "":
		secret, c.SecretHash = NewClientSecret()
	case len(secret) < 32:
		return store.Client{}, "", fmt.Errorf("client %s: a fixed secret needs at least 32 characters", spec.ID)
	default:
		c.SecretHash = store.Hash(secret)
	}
	return c, secret, nil
}

// CreateClient validates spec and stores the client; it returns the
// plaintext secret of a confidential client.
func CreateClient(ctx context.Context, st store.Store, spec ClientSpec, now time.Time) (store.Client, string, error) {
	c, secret, err := spec.Build(now)
	if err != nil {
		return store.Client{}, "", err
	}
	if err := st.CreateClient(ctx, c); err != nil {
		return store.Client{}, "", err
	}
	return c, secret, nil
}

// RotateClientSecret gives a confidential client a new secret; the old
// one stops working at once.
func RotateClientSecret(ctx context.Context, st store.Store, id string, now time.Time) (string, error) {
	secret, hash := NewClientSecret()
	_, err := st.UpdateClient(ctx, id, func(c *store.Client) error {
		if c.Public {
			return fmt.Errorf("client %s is public and has no secret: %w", id, store.ErrInvalid)
		}
		c.SecretHash, c.UpdatedAt = hash, now
		return nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// CreateUser validates spec and stores a new user with a fresh id.
func CreateUser(ctx context.Context, st store.Store, spec UserSpec, now time.Time) (store.User, error) {
	spec.Username = strings.TrimSpace(spec.Username)
	if spec.Username == "" || len(spec.Username) > maxUsernameLength {
		return store.User{}, fmt.Errorf("username must have 1-%d characters", maxUsernameLength)
	}
	hash, err := hashNewPassword(spec.Password)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{
		ID:            randomID(),
		Username:      spec.Username,
		PasswordHash:  hash,
		Name:          spec.Name,
		GivenName:     spec.GivenName,
		FamilyName:    spec.FamilyName,
		Email:         spec.Email,
		EmailVerified: spec.EmailVerified,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	return u, nil
}

func hashNewPassword(password string) (string, error) {
	if len(password) < MinPasswordLength || len(password) > maxPasswordLength {
		return "", fmt.Errorf("password must have %d-%d characters", MinPasswordLength, maxPasswordLength)
	}
	return HashPassword(password)
}

// SetPassword replaces a user's password.
func SetPassword(ctx context.Context, st store.Store, username, password string, now time.Time) error {
	u, err := st.GetUserByUsername(ctx, username)
	if err != nil {
		return err
	}
	hash, err := hashNewPassword(password)
	if err != nil {
		return err
	}
	_, err = st.UpdateUser(ctx, u.ID, func(u *store.User) error {
		u.PasswordHash, u.UpdatedAt = hash, now
		return nil
	})
	return err
}
