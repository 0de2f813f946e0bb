// Package keys manages the authserver's token-signing keys: RSA-2048 keys
// for RS256, generated on first start and kept in the store (encrypted at
// rest when a key-encryption secret is configured), and rotated on a
// schedule:
//
//   - a new key is published in the JWKS PublishLead before it signs
//     anything, so verifiers that cache the JWKS know it in time;
//   - the newest key whose activation time has passed signs;
//   - a key that stopped signing stays published for Retention, which
//     must exceed the longest token lifetime, and then leaves the store.
//
// Every replica sharing a store computes the same schedule from the
// stored keys; Maintain is safe to run on all of them.
package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

// Algorithm is the one signing algorithm: RS256 with RSA-2048 keys.
const Algorithm = "RS256"

const rsaBits = 2048

// Config is the rotation schedule.
type Config struct {
	// RotationInterval is how long each key signs before its successor
	// takes over.
	RotationInterval time.Duration
	// PublishLead is how long a new key is published before it signs.
	PublishLead time.Duration
	// Retention is how long a key stays published after it stopped
	// signing; it must exceed the longest token lifetime.
	Retention time.Duration
	// Secret, when set, encrypts private keys at rest (AES-256-GCM).
	Secret []byte
	// OnPublish, when set, is called after a key this manager generated
	// is stored, with its kid and the time it starts signing; the server
	// logs and counts rotations with it.
	OnPublish func(kid string, activatesAt time.Time)
}

// Key is a loaded signing key.
type Key struct {
	// ID is the `kid`, the key's RFC 7638 thumbprint.
	ID string
	// CreatedAt is when the key was published.
	CreatedAt time.Time
	// ActivatesAt is when the key starts signing.
	ActivatesAt time.Time

	public       *rsa.PublicKey
	accessSigner jose.Signer
	idSigner     jose.Signer
}

// PublicKey is the key's public half.
func (k *Key) PublicKey() *rsa.PublicKey { return k.public }

// SignAccessToken signs claims as an RFC 9068 access token (typ at+jwt).
func (k *Key) SignAccessToken(claims []byte) (string, error) { return sign(k.accessSigner, claims) }

// SignIDToken signs claims as an ID token (typ JWT).
func (k *Key) SignIDToken(claims []byte) (string, error) { return sign(k.idSigner, claims) }

func sign(s jose.Signer, claims []byte) (string, error) {
	jws, err := s.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return jws.CompactSerialize()
}

// State names where a key is in its life at a given time.
type State string

// Key states.
const (
	StateNext     State = "next"
	StateCurrent  State = "current"
	StateRetiring State = "retiring"
	// StateExpired keys are no longer published and are removed by Maintain.
	StateExpired State = "expired"
)

// Status describes one key at a given time.
type Status struct {
	ID          string    `json:"kid"`
	State       State     `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatesAt time.Time `json:"activates_at"`
	// RetiredAt is when the next key took over; zero while the key signs or waits.
	RetiredAt time.Time `json:"retired_at,omitzero"`
	// UnpublishAt is when the key leaves the JWKS; zero while unknown.
	UnpublishAt time.Time `json:"unpublish_at,omitzero"`
	Encrypted   bool      `json:"encrypted"`
}

// Manager loads, schedules and rotates signing keys.
type Manager struct {
	st     store.Store
	cfg    Config
	now    func() time.Time
	sealer *sealer

	mu        sync.RWMutex
	keys      []*Key // ordered by ActivatesAt
	encrypted map[string]bool
	jwks      atomic.Pointer[jwksCache]
}

type jwksCache struct {
	kids string
	body []byte
}

// NewManager returns a manager for the keys in st; call Maintain before use.
func NewManager(st store.Store, cfg Config, now func() time.Time) (*Manager, error) {
	if cfg.RotationInterval <= 0 || cfg.PublishLead < 0 || cfg.Retention <= 0 {
		return nil, fmt.Errorf("key rotation: interval and retention must be positive and the publish lead not negative")
	}
	if cfg.PublishLead >= cfg.RotationInterval {
		return nil, fmt.Errorf("key rotation: publish lead %s must be shorter than the rotation interval %s", cfg.PublishLead, cfg.RotationInterval)
	}
	m := &Manager{st: st, cfg: cfg, now: now}
	if len(cfg.Secret) > 0 {
		s, err := newSealer(cfg.Secret)
		if err != nil {
			return nil, err
		}
		m.sealer = s
	}
	return m, nil
}

// schedule is the life of the keys at one time, over keys ordered by
// activation.
type schedule struct {
	current int // index of the signing key; -1 if none
}

func (m *Manager) scheduleAt(keys []*Key, now time.Time) schedule {
	s := schedule{current: -1}
	for i, k := range keys {
		if !k.ActivatesAt.After(now) {
			s.current = i
		}
	}
	return s
}

// retiredAt is when keys[i] stopped signing (zero if it has not).
func retiredAt(keys []*Key, i int, now time.Time) time.Time {
	if i+1 < len(keys) && !keys[i+1].ActivatesAt.After(now) {
		return keys[i+1].ActivatesAt
	}
	return time.Time{}
}

func (m *Manager) state(keys []*Key, i int, now time.Time) State {
	s := m.scheduleAt(keys, now)
	switch {
	case i == s.current:
		return StateCurrent
	case i > s.current:
		return StateNext
	case now.Before(retiredAt(keys, i, now).Add(m.cfg.Retention)):
		return StateRetiring
	default:
		return StateExpired
	}
}

// Signer returns the key that signs at the current time.
func (m *Manager) Signer() (*Key, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.scheduleAt(m.keys, m.now())
	if s.current < 0 {
		return nil, errors.New("no active signing key (key maintenance has not run)")
	}
	return m.keys[s.current], nil
}

// Published returns the published key with kid, for verifying tokens
// this server issued.
func (m *Manager) Published(kid string) (*Key, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	for i, k := range m.keys {
		if k.ID == kid {
			return k, m.state(m.keys, i, now) != StateExpired
		}
	}
	return nil, false
}

// JWKS returns the JSON Web Key Set of every published key.
func (m *Manager) JWKS() []byte {
	m.mu.RLock()
	now := m.now()
	var published []*Key
	for i, k := range m.keys {
		if m.state(m.keys, i, now) != StateExpired {
			published = append(published, k)
		}
	}
	m.mu.RUnlock()
	ids := make([]string, len(published))
	for i, k := range published {
		ids[i] = k.ID
	}
	kids := strings.Join(ids, ",")
	if c := m.jwks.Load(); c != nil && c.kids == kids {
		return c.body
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(published))}
	for _, k := range published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.public, KeyID: k.ID, Algorithm: Algorithm, Use: "sig"})
	}
	body, err := json.Marshal(set)
	if err != nil {
		// Marshalling RSA public keys cannot fail.
		panic(fmt.Sprintf("encoding JWKS: %v", err))
	}
	m.jwks.Store(&jwksCache{kids: kids, body: body})
	return body
}

// Status describes every stored key at the current time.
func (m *Manager) Status() []Status {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	out := make([]Status, len(m.keys))
	for i, k := range m.keys {
		st := Status{ID: k.ID, State: m.state(m.keys, i, now), CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt, Encrypted: m.encrypted[k.ID]}
		if r := retiredAt(m.keys, i, now); !r.IsZero() {
			st.RetiredAt = r
			st.UnpublishAt = r.Add(m.cfg.Retention)
		}
		out[i] = st
	}
	return out
}

// Load reads the stored keys without changing them.
func (m *Manager) Load(ctx context.Context) error { return m.load(ctx) }

// Maintain brings the stored keys in line with the schedule at the
// current time (first key, next key, removal of expired keys, encryption
// of keys stored in the clear) and reloads them.
func (m *Manager) Maintain(ctx context.Context) error {
	if err := m.load(ctx); err != nil {
		return err
	}
	if err := m.plan(ctx, false); err != nil {
		return err
	}
	return m.load(ctx)
}

// Rotate schedules a new key now: it is published at once and signs
// after the publish lead. If a next key is already waiting, Rotate
// leaves it and returns its status. Rotate never removes keys.
func (m *Manager) Rotate(ctx context.Context) (Status, error) {
	if err := m.load(ctx); err != nil {
		return Status{}, err
	}
	if err := m.plan(ctx, true); err != nil {
		return Status{}, err
	}
	if err := m.load(ctx); err != nil {
		return Status{}, err
	}
	for _, s := range m.Status() {
		if s.State == StateNext {
			return s, nil
		}
	}
	return Status{}, errors.New("rotation scheduled no key")
}

// plan decides on the stored key set and writes it in one change. The
// decision is repeated inside the store's transaction against the keys
// as stored then, so replicas racing each other add one key, not two.
func (m *Manager) plan(ctx context.Context, rotateNow bool) error {
	now := m.now()
	// Generating an RSA key takes tens of milliseconds: do it outside the
	// transaction, only when the keys as loaded say one is due.
	var fresh *store.SigningKey
	if at, due := m.nextActivation(m.snapshot(), now, rotateNow); due {
		k, err := m.generate(now, at)
		if err != nil {
			return err
		}
		fresh = &k
	}
	added := false
	err := m.st.UpdateSigningKeys(ctx, func(stored []store.SigningKey) ([]store.SigningKey, error) {
		added = false // the store may run this more than once
		loaded, err := m.parseAll(stored)
		if err != nil {
			return nil, err
		}
		var out []store.SigningKey
		for i, k := range loaded {
			// A manual rotation only adds: the retention configured where
			// it runs (a command) may be shorter than the server's.
			if !rotateNow && m.state(loaded, i, now) == StateExpired {
				continue
			}
			sk := stored[slices.IndexFunc(stored, func(s store.SigningKey) bool { return s.ID == k.ID })]
			if m.sealer != nil && !sk.Encrypted {
				if sk, err = m.sealKey(sk); err != nil {
					return nil, err
				}
			}
			out = append(out, sk)
		}
		if _, due := m.nextActivation(loaded, now, rotateNow); due && fresh != nil {
			out = append(out, *fresh)
			added = true
		}
		return out, nil
	})
	if err == nil && added && m.cfg.OnPublish != nil {
		m.cfg.OnPublish(fresh.ID, fresh.ActivatesAt)
	}
	return err
}

// nextActivation says whether a new key is due and when it should start
// signing: at once when there is none, otherwise a publish lead before
// the current key's interval ends (or now, for a manual rotation).
func (m *Manager) nextActivation(keys []*Key, now time.Time, rotateNow bool) (time.Time, bool) {
	s := m.scheduleAt(keys, now)
	if s.current < 0 {
		if len(keys) > 0 {
			return time.Time{}, false // a first key is waiting to activate
		}
		return now, true
	}
	if s.current < len(keys)-1 {
		return time.Time{}, false // a next key is already published
	}
	end := keys[s.current].ActivatesAt.Add(m.cfg.RotationInterval)
	if rotateNow {
		return now.Add(m.cfg.PublishLead), true
	}
	if now.Before(end.Add(-m.cfg.PublishLead)) {
		return time.Time{}, false
	}
	return latest(end, now.Add(m.cfg.PublishLead)), true
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (m *Manager) snapshot() []*Key {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.keys)
}

func (m *Manager) generate(now, activates time.Time) (store.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encoding signing key: %w", err)
	}
	kid, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return store.SigningKey{}, err
	}
	sk := store.SigningKey{ID: kid, Algorithm: Algorithm, Private: der, CreatedAt: now, ActivatesAt: activates}
	if m.sealer != nil {
		return m.sealKey(sk)
	}
	return sk, nil
}

func (m *Manager) sealKey(sk store.SigningKey) (store.SigningKey, error) {
	sealed, err := m.sealer.seal(sk.ID, sk.Private)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encrypting signing key %s: %w", sk.ID, err)
	}
	sk.Private, sk.Encrypted = sealed, true
	return sk, nil
}

func thumbprint(pub *rsa.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// load reads the stored keys, parsing only those not loaded before.
func (m *Manager) load(ctx context.Context) error {
	stored, err := m.st.ListSigningKeys(ctx)
	if err != nil {
		return err
	}
	keys, err := m.parseAll(stored)
	if err != nil {
		return err
	}
	encrypted := make(map[string]bool, len(stored))
	for _, sk := range stored {
		encrypted[sk.ID] = sk.Encrypted
	}
	m.mu.Lock()
	m.keys, m.encrypted = keys, encrypted
	m.mu.Unlock()
	return nil
}

// parseAll turns stored keys into loaded ones ordered by activation,
// reusing keys already parsed.
func (m *Manager) parseAll(stored []store.SigningKey) ([]*Key, error) {
	known := make(map[string]*Key)
	for _, k := range m.snapshot() {
		known[k.ID] = k
	}
	keys := make([]*Key, 0, len(stored))
	for _, sk := range stored {
		if k, ok := known[sk.ID]; ok && k.ActivatesAt.Equal(sk.ActivatesAt) {
			keys = append(keys, k)
			continue
		}
		k, err := m.parse(sk)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	slices.SortStableFunc(keys, func(a, b *Key) int { return a.ActivatesAt.Compare(b.ActivatesAt) })
	return keys, nil
}

func (m *Manager) parse(sk store.SigningKey) (*Key, error) {
	if sk.Algorithm != Algorithm {
		return nil, fmt.Errorf("signing key %s: unsupported algorithm %q", sk.ID, sk.Algorithm)
	}
	der := sk.Private
	if sk.Encrypted {
		if m.sealer == nil {
			return nil, fmt.Errorf("signing key %s: %w", sk.ID, ErrNoSecret)
		}
		var err error
		if der, err = m.sealer.open(sk.ID, sk.Private); err != nil {
			return nil, err
		}
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not an RSA key", sk.ID)
	}
	priv.Precompute()
	jwk := jose.JSONWebKey{Key: priv, KeyID: sk.ID, Algorithm: Algorithm}
	accessSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	idSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	return &Key{ID: sk.ID, CreatedAt: sk.CreatedAt, ActivatesAt: sk.ActivatesAt, public: &priv.PublicKey,
		accessSigner: accessSigner, idSigner: idSigner}, nil
}
