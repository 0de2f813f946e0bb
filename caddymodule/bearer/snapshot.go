package bearer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"slices"

	"github.com/MicahParks/jwkset"
	"go.uber.org/zap"
)

// publicKey is what every signature key type in the standard library
// offers: comparison with another key.
type publicKey interface {
	Equal(crypto.PublicKey) bool
}

// heldKey is one signing key of the issuer. Its address is its identity: a
// refresh that finds the same kid with the same key keeps the same
// *heldKey, so decisions cached under it stay valid, while a key that is
// removed or replaced has no successor, and decisions cached under it stop
// matching.
type heldKey struct {
	public publicKey
}

// keySnapshot is an immutable view of the issuer's signing keys by kid.
// Verify reads it on every cache hit, so it is swapped whole (one atomic
// pointer) rather than updated in place.
type keySnapshot struct {
	byKID map[string]*heldKey
}

// find returns the key held under kid, or nil.
func (s *keySnapshot) find(kid string) *heldKey {
	if s == nil {
		return nil
	}
	return s.byKID[kid]
}

func (s *keySnapshot) kids() []string {
	if s == nil {
		return nil
	}
	kids := make([]string, 0, len(s.byKID))
	for kid := range s.byKID {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

func (s *keySnapshot) sameKeys(other *keySnapshot) bool {
	if s == nil || other == nil {
		return s == other
	}
	if len(s.byKID) != len(other.byKID) {
		return false
	}
	for kid, key := range s.byKID {
		if other.byKID[kid] != key {
			return false
		}
	}
	return true
}

// snapshotStorage is the jwkset storage of an issuer's keys. jwkset calls
// KeyReplaceAll after every successful fetch, and only then, which makes it
// the one place to learn that the set may have changed.
type snapshotStorage struct {
	*jwkset.MemoryJWKSet
	publish func([]jwkset.JWK)
}

// KeyReplaceAll stores the fetched set and publishes its snapshot.
func (s *snapshotStorage) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if err := s.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	s.publish(given)
	return nil
}

// publish replaces the snapshot after a successful fetch, keeping the
// *heldKey of every key that did not change.
func (k *issuerKeys) publish(fetched []jwkset.JWK) {
	prev := k.snapshot.Load()
	next := &keySnapshot{byKID: make(map[string]*heldKey, len(fetched))}
	for _, jwk := range fetched {
		m := jwk.Marshal()
		if m.KID == "" || (m.USE != "" && m.USE != jwkset.UseSig) {
			continue
		}
		if _, dup := next.byKID[m.KID]; dup {
			continue // jwkset's lookup returns the first key with a kid; so does this
		}
		public, ok := signingKey(jwk.Key())
		if !ok {
			continue
		}
		if old := prev.find(m.KID); old != nil && old.public.Equal(public) {
			next.byKID[m.KID] = old
		} else {
			next.byKID[m.KID] = &heldKey{public: public}
		}
	}
	k.snapshot.Store(next)
	k.refreshOK.Inc()
	if prev != nil && !prev.sameKeys(next) {
		k.log().Info("issuer signing keys changed",
			zap.String("issuer", k.key.issuer), zap.Strings("kids", next.kids()))
	}
}

// signingKey returns the public half of an asymmetric signing key. Other
// keys in a JWKS (symmetric "oct" keys, X25519) are never used to verify.
func signingKey(key any) (publicKey, bool) {
	if private, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		key = private.Public()
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k, true
	case *ecdsa.PublicKey:
		return k, true
	case ed25519.PublicKey:
		return k, true
	default:
		return nil, false
	}
}

// Interface guards
var _ jwkset.Storage = (*snapshotStorage)(nil)
