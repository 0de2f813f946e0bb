// Package store holds everything the authserver keeps: OAuth clients,
// users, consents, browser sessions, pending authorization requests and
// their codes, refresh tokens grouped in families, revoked token ids, the
// signing keys, and which seed entries were applied.
//
// Store is the interface every backend implements. Today that is bbolt
// (OpenBolt, one file, one process); an etcd backend for several authserver
// replicas is planned, and package conformance holds the suite each
// backend must pass. Every mutation is one atomic, durable change: when it
// returns nil the change survives a crash, when it returns an error
// nothing changed. Secrets never reach the store in plaintext: client
// secrets, codes, refresh tokens and session ids are stored as SHA-256
// hashes, passwords as argon2id hashes, private keys optionally encrypted.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Errors reported by every backend; callers test them with errors.Is.
var (
	// ErrNotFound: no record has that id (or hash).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a record with that id or username already exists.
	ErrConflict = errors.New("already exists")
	// ErrInvalid: the record is malformed (empty id, missing field).
	ErrInvalid = errors.New("invalid record")
	// ErrLocked: the store's file is held by another process.
	ErrLocked = errors.New("authserver store is in use by another process")
	// ErrReplayed: an authorization code was presented a second time. The
	// tokens issued from its first redemption have been revoked.
	ErrReplayed = errors.New("authorization code already redeemed")
	// ErrReused: a rotated-out refresh token was presented again. Its
	// whole family has been revoked.
	ErrReused = errors.New("refresh token reused")
	// ErrRevoked: the refresh token's family was revoked earlier.
	ErrRevoked = errors.New("refresh token family revoked")
	// ErrExpired: the code or refresh token is past its expiry.
	ErrExpired = errors.New("expired")
)

// Hash returns the stored form (hex SHA-256) of a random secret: a code,
// a refresh token, a session id or a client secret. These carry at least
// 256 bits of randomness, so a fast hash is enough: nothing can be
// brute-forced, and lookups by hash stay cheap.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Scope claim formats of access tokens.
const (
	// ScopeFormatString writes `scope` as one space-delimited string (RFC 9068).
	ScopeFormatString = "string"
	// ScopeFormatArray writes `scope` as a JSON array, as IdentityServer does.
	ScopeFormatArray = "array"
)

// Grant types a client can be allowed.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Client is an OAuth client as stored.
type Client struct {
	// ID is the client_id.
	ID string `json:"id"`
	// Name is shown on the consent page.
	Name string `json:"name,omitempty"`
	// SecretHash is Hash(secret); empty for a public client.
	SecretHash string `json:"secret_hash,omitempty"`
	// Public clients have no secret and must use PKCE (code flow only).
	Public bool `json:"public,omitempty"`
	// GrantTypes the client may use (Grant* constants).
	GrantTypes []string `json:"grant_types"`
	// Scopes the client may request.
	Scopes []string `json:"scopes"`
	// RedirectURIs are matched exactly.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	// PostLogoutRedirectURIs are matched exactly at the end-session endpoint.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// Audience overrides the server's access-token audience for this client.
	Audience []string `json:"audience,omitempty"`
	// ScopeFormat overrides the server's scope claim format ("string" or "array").
	ScopeFormat string `json:"scope_format,omitempty"`
	// AccessTokenLifetime; zero means the server default.
	AccessTokenLifetime time.Duration `json:"access_token_lifetime,omitempty"`
	// RefreshTokenLifetime; zero means the server default.
	RefreshTokenLifetime time.Duration `json:"refresh_token_lifetime,omitempty"`
	// CodeLifetime; zero means the server default.
	CodeLifetime time.Duration `json:"code_lifetime,omitempty"`
	// CreatedAt and UpdatedAt are set by the caller.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// User is a person who can log in.
type User struct {
	// ID is the subject (`sub`) of the user's tokens; it never changes.
	ID string `json:"id"`
	// Username is unique, compared case-insensitively.
	Username string `json:"username"`
	// PasswordHash is a PHC-format argon2id hash.
	PasswordHash string `json:"password_hash"`
	// Profile claims.
	Name          string    `json:"name,omitempty"`
	GivenName     string    `json:"given_name,omitempty"`
	FamilyName    string    `json:"family_name,omitempty"`
	Email         string    `json:"email,omitempty"`
	EmailVerified bool      `json:"email_verified,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Consent records the scopes a user granted a client.
type Consent struct {
	UserID    string    `json:"user_id"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
}

// Session is a logged-in browser.
type Session struct {
	// ID is Hash(cookie value).
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	AuthTime  time.Time `json:"auth_time"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TokenRef names an issued JWT by its `jti`, kept until it expires.
type TokenRef struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AuthRequest is an authorization request from /connect/authorize on its
// way through login and consent, and then the grant behind its code.
type AuthRequest struct {
	ID                  string   `json:"id"`
	ClientID            string   `json:"client_id"`
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge"`
	CodeChallengeMethod string   `json:"code_challenge_method"`
	Prompt              []string `json:"prompt,omitempty"`
	// MaxAge is the max_age parameter in seconds; nil when absent.
	MaxAge *uint `json:"max_age,omitempty"`
	// BrowserBinding is Hash(cookie) of the browser that started the request.
	BrowserBinding string    `json:"browser_binding"`
	CreatedAt      time.Time `json:"created_at"`
	// ExpiresAt ends the time allowed for login and consent.
	ExpiresAt time.Time `json:"expires_at"`

	// Set once the user has logged in.
	UserID    string    `json:"user_id,omitempty"`
	AuthTime  time.Time `json:"auth_time,omitempty"`
	SessionID string    `json:"session_id,omitempty"`

	// Set once the user has consented: Hash(code) and its expiry.
	CodeHash      string    `json:"code_hash,omitempty"`
	CodeExpiresAt time.Time `json:"code_expires_at,omitempty"`

	// Set by RedeemCode.
	RedeemedAt time.Time `json:"redeemed_at,omitempty"`
	// Issued lists what the redemption issued, so that a replay can revoke it.
	Issued *Issued `json:"issued,omitempty"`
}

// Issued is what a code exchange or refresh issues: an access token, and
// optionally a refresh token.
type Issued struct {
	AccessToken TokenRef `json:"access_token"`
	// RefreshFamily is the family of the refresh token issued; empty when none.
	RefreshFamily string `json:"refresh_family,omitempty"`
}

// RefreshToken is one refresh token of a family. Each use rotates it: the
// used token is marked and a successor stored.
type RefreshToken struct {
	// Hash is Hash(token).
	Hash      string    `json:"hash"`
	FamilyID  string    `json:"family_id"`
	ClientID  string    `json:"client_id"`
	UserID    string    `json:"user_id"`
	Scopes    []string  `json:"scopes"`
	AuthTime  time.Time `json:"auth_time"`
	SessionID string    `json:"session_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// RotatedAt is set when the token was exchanged for a successor.
	RotatedAt time.Time `json:"rotated_at,omitempty"`
	// FamilyRevoked is filled in on reads: the family was revoked.
	FamilyRevoked bool `json:"-"`
}

// SigningKey is one token-signing key. A key is published from CreatedAt,
// signs from ActivatesAt until the next key activates, and stays published
// for the retention the key manager configures.
type SigningKey struct {
	// ID is the JWK `kid`.
	ID string `json:"id"`
	// Algorithm is the JWS algorithm, e.g. "RS256".
	Algorithm string `json:"algorithm"`
	// Private is the PKCS #8 DER private key, AES-GCM sealed when Encrypted.
	Private   []byte    `json:"private"`
	Encrypted bool      `json:"encrypted,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ActivatesAt is when the key starts signing.
	ActivatesAt time.Time `json:"activates_at"`
}

// Store is the interface every backend implements. Updates take a
// function that changes the record inside the backend's transaction, so
// that no change is a read-modify-write across two transactions; the
// function may run more than once on backends that retry on conflict.
type Store interface {
	// CreateClient stores a new client; ErrConflict if the id is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client with id.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns all clients ordered by id.
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient applies change to the client with id and stores it.
	UpdateClient(ctx context.Context, id string, change func(*Client) error) (Client, error)
	// DeleteClient removes a client and its consents, and revokes its
	// refresh-token families.
	DeleteClient(ctx context.Context, id string) error

	// CreateUser stores a new user; ErrConflict if the id or username is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns the user with id.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByUsername finds a user by username, case-insensitively.
	GetUserByUsername(ctx context.Context, username string) (User, error)
	// ListUsers returns all users ordered by id.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies change to the user with id; the id cannot change.
	UpdateUser(ctx context.Context, id string, change func(*User) error) (User, error)
	// DeleteUser removes a user with their consents and sessions, and
	// revokes their refresh-token families.
	DeleteUser(ctx context.Context, id string) error

	// GetConsent returns what userID granted clientID.
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	// PutConsent stores (replaces) a consent.
	PutConsent(ctx context.Context, c Consent) error

	// CreateSession stores a browser session.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with id (its hash).
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteSession removes a session; removing a missing one is no error.
	DeleteSession(ctx context.Context, id string) error

	// CreateAuthRequest stores a new authorization request.
	CreateAuthRequest(ctx context.Context, ar AuthRequest) error
	// GetAuthRequest returns the authorization request with id.
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// UpdateAuthRequest applies change; setting CodeHash indexes the code.
	UpdateAuthRequest(ctx context.Context, id string, change func(*AuthRequest) error) (AuthRequest, error)
	// GetAuthRequestByCode finds the request whose code hashes to codeHash.
	GetAuthRequestByCode(ctx context.Context, codeHash string) (AuthRequest, error)
	// RedeemCode marks the code used and records what was issued for it;
	// refresh, when not nil, is stored as the first token of a new family.
	// A code redeemed before is refused with ErrReplayed, and what its
	// first redemption issued is revoked in the same change.
	RedeemCode(ctx context.Context, codeHash string, now time.Time, issued Issued, refresh *RefreshToken) error

	// GetRefreshToken returns the refresh token with hash, FamilyRevoked filled in.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken marks the token with oldHash used and stores next
	// in the same family, recording access. A token used before makes it
	// revoke the family and return ErrReused; a revoked family gives
	// ErrRevoked; an expired token ErrExpired.
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next RefreshToken, access TokenRef) error
	// RevokeFamily revokes a refresh-token family and the access tokens
	// issued with it.
	RevokeFamily(ctx context.Context, familyID string, now time.Time) error

	// RevokeToken records a JWT id as revoked until it expires.
	RevokeToken(ctx context.Context, t TokenRef) error
	// IsTokenRevoked reports whether the JWT id was revoked.
	IsTokenRevoked(ctx context.Context, id string) (bool, error)

	// ListSigningKeys returns all signing keys, oldest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKeys replaces the key set with what change returns.
	UpdateSigningKeys(ctx context.Context, change func([]SigningKey) ([]SigningKey, error)) error

	// Secret returns the named server secret, storing fresh as its value
	// the first time, so that every replica uses the same one.
	Secret(ctx context.Context, name string, fresh []byte) ([]byte, error)

	// SeedApplied reports whether the seed entry named key was applied
	// before (MarkSeedApplied), even if what it created was removed since.
	SeedApplied(ctx context.Context, key string) (bool, error)
	// MarkSeedApplied records that the seed entry named key was applied;
	// marking it again is no error.
	MarkSeedApplied(ctx context.Context, key string, at time.Time) error

	// DeleteExpired removes authorization requests, sessions, refresh
	// tokens, families and revoked ids that expired before now, and
	// reports how many records it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
	// Close releases the backend.
	Close() error
}
