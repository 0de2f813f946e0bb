package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretLength is the shortest key-encryption secret accepted. The
// secret is used through SHA-256, not a password hash, so it must be
// random: 32 characters from `openssl rand -base64 32` are enough.
const MinSecretLength = 32

// ErrNoSecret: stored keys are encrypted and no key-encryption secret was given.
var ErrNoSecret = errors.New("signing keys are encrypted at rest and no key-encryption secret is configured")

// sealer encrypts private keys at rest with AES-256-GCM. The key id is the
// additional data, so a sealed key cannot be passed off as another.
type sealer struct {
	aead cipher.AEAD
}

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("key-encryption secret has %d bytes, want at least %d random bytes", len(secret), MinSecretLength)
	}
	key := sha256.Sum256(append([]byte("gatehouse signing-key encryption v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(kid string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(kid)), nil
}

func (s *sealer) open(kid string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed key too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("decrypting signing key %s (wrong key-encryption secret?): %w", kid, err)
	}
	return plain, nil
}
