package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Idempotent creates.
//
// A client that retries a create (its connection dropped before the 201
// arrived) must get the first answer again, plaintext key included,
// rather than a second client. So the store keeps, for IdempotencyTTL,
// an idempotency record per (actor, Idempotency-Key), written in the same
// transaction as the client it describes.
//
// The record must not become a second place where plaintext keys lie
// about. It holds the key only sealed with AES-256-GCM, under a key
// derived by HKDF-SHA256 from the Idempotency-Key value itself (with a
// random per-record salt). The record is found by a SHA-256 over the
// actor and the Idempotency-Key, never by the value, so the database
// alone cannot open it: only a caller presenting the same Idempotency-Key
// can. The protection is as strong as the Idempotency-Key is
// unguessable, which is why keys shorter than MinIdempotencyKeyLength
// are refused (a UUID, as clients usually send, is fine).
//
// Records are scoped to the actor (subject and client id), so two admins
// who happen to send the same Idempotency-Key each get their own client,
// and neither can replay the other's key. The request fingerprint is kept
// as a SHA-256 and compared in constant time; a reuse with another body is
// ErrConflict. A replay whose client was since deleted or rotated is
// ErrConflict too: the sealed key no longer opens anything, and handing it
// out again would mislead.
const (
	// IdempotencyTTL is how long a create can be replayed.
	IdempotencyTTL = 24 * time.Hour
	// MinIdempotencyKeyLength is the shortest Idempotency-Key accepted;
	// the key must be visible ASCII.
	MinIdempotencyKeyLength = 16
	// MaxIdempotencyKeyLength is the longest Idempotency-Key accepted.
	MaxIdempotencyKeyLength = 255
	// MaxFingerprintLength bounds Idempotency.Fingerprint.
	MaxFingerprintLength = 4096
)

const (
	idempotencyIndexDomain = "gatehouse idempotency index v1"
	idempotencySealInfo    = "gatehouse idempotency seal v1"
	idempotencySaltSize    = 32
)

// idempotencyRecord is the stored answer of an idempotent create.
type idempotencyRecord struct {
	ClientID    string    `json:"client_id"`
	Fingerprint []byte    `json:"fingerprint"` // SHA-256 of Idempotency.Fingerprint
	Salt        []byte    `json:"salt"`
	Nonce       []byte    `json:"nonce"`
	SealedKey   []byte    `json:"sealed_key"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func validateIdempotency(i *Idempotency) error {
	if len(i.Key) < MinIdempotencyKeyLength || len(i.Key) > MaxIdempotencyKeyLength {
		return fmt.Errorf("%w: idempotency key must be %d to %d characters", ErrInvalid, MinIdempotencyKeyLength, MaxIdempotencyKeyLength)
	}
	for j := 0; j < len(i.Key); j++ {
		if c := i.Key[j]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: idempotency key must be visible ASCII", ErrInvalid)
		}
	}
	if len(i.Fingerprint) == 0 || len(i.Fingerprint) > MaxFingerprintLength {
		return fmt.Errorf("%w: request fingerprint must be 1 to %d bytes", ErrInvalid, MaxFingerprintLength)
	}
	return nil
}

// idempotencyIndex is where the record of (actor, key) is stored. Every
// field is length-prefixed so that no two inputs run together.
func idempotencyIndex(a Actor, key string) [sha256.Size]byte {
	h := sha256.New()
	for _, field := range []string{idempotencyIndexDomain, a.Subject, a.ClientID, key} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(field)))
		h.Write(n[:])
		h.Write([]byte(field))
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// sealingAEAD derives the record's AES-256-GCM cipher from the
// Idempotency-Key and the record's salt.
func sealingAEAD(idempotencyKey string, salt []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(idempotencyKey), salt, idempotencySealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving idempotency sealing key: %w", err)
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("idempotency sealing cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// newIdempotencyRecord seals plaintextKey for a later replay. The client
// id is authenticated data, so a sealed key cannot be moved to another
// client's record.
func newIdempotencyRecord(i *Idempotency, clientID, plaintextKey string, expires time.Time) (*idempotencyRecord, error) {
	salt := make([]byte, idempotencySaltSize)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	aead, err := sealingAEAD(i.Key, salt)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	fp := sha256.Sum256(i.Fingerprint)
	return &idempotencyRecord{
		ClientID:    clientID,
		Fingerprint: fp[:],
		Salt:        salt,
		Nonce:       nonce,
		SealedKey:   aead.Seal(nil, nonce, []byte(plaintextKey), []byte(clientID)),
		ExpiresAt:   expires,
	}, nil
}

// sameRequest reports, in constant time, whether fingerprint is the one
// the record was made for.
func (r *idempotencyRecord) sameRequest(fingerprint []byte) bool {
	fp := sha256.Sum256(fingerprint)
	return subtle.ConstantTimeCompare(fp[:], r.Fingerprint) == 1
}

// open recovers the plaintext key with the caller's Idempotency-Key.
func (r *idempotencyRecord) open(idempotencyKey string) (string, error) {
	aead, err := sealingAEAD(idempotencyKey, r.Salt)
	if err != nil {
		return "", err
	}
	plain, err := aead.Open(nil, r.Nonce, r.SealedKey, []byte(r.ClientID))
	if err != nil {
		return "", fmt.Errorf("opening idempotency record of client %s: %w", r.ClientID, err)
	}
	return string(plain), nil
}

func encodeIdempotency(r *idempotencyRecord) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding idempotency record: %w", err)
	}
	return b, nil
}

func decodeIdempotency(b []byte) (*idempotencyRecord, error) {
	var r idempotencyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding idempotency record: %w", err)
	}
	return &r, nil
}
