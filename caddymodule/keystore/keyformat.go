package keystore

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// DefaultKeyPrefix starts every key of a store opened without a prefix.
const DefaultKeyPrefix = "rsa_live_"

// Key layout after the prefix: 32 random bytes, then the CRC-32 of
// everything before the checksum, both base64url without padding.
const (
	randomBytes     = 32
	randomChars     = 43 // base64url of 32 bytes, unpadded
	checksumChars   = 6  // base64url of 4 bytes, unpadded
	displayChars    = 8  // random characters shown after the prefix
	minPrefixLength = 3
	maxPrefixLength = 32
)

// Errors reported by KeyFormat.Check, so the gateway can tell the client
// what is wrong with a key without looking it up. None of them quotes the
// candidate.
var (
	// ErrKeyPrefix: the candidate does not start with the store's prefix.
	ErrKeyPrefix = errors.New("API key does not have this store's prefix")
	// ErrKeyMalformed: wrong length or a character outside base64url.
	ErrKeyMalformed = errors.New("API key is malformed")
	// ErrKeyChecksum: the key is shaped right but its checksum does not
	// match, e.g. a typo or a truncated copy.
	ErrKeyChecksum = errors.New("API key checksum does not match")
)

// KeyFormat describes the keys of one store: its prefix, then 43
// base64url characters of randomness (256 bits from crypto/rand), then 6
// base64url characters of the big-endian CRC-32/IEEE of prefix and random
// part. The checksum is not a secret and protects nothing; it lets the
// gateway refuse mistyped or made-up keys before any lookup, and lets
// secret scanners recognise leaked keys.
type KeyFormat struct {
	prefix string
}

// NewKeyFormat returns the format for prefix, which must be 3 to 32
// characters of lowercase letters, digits and '_', ending in '_'.
func NewKeyFormat(prefix string) (KeyFormat, error) {
	if err := validatePrefix(prefix); err != nil {
		return KeyFormat{}, err
	}
	return KeyFormat{prefix: prefix}, nil
}

func validatePrefix(prefix string) error {
	if len(prefix) < minPrefixLength || len(prefix) > maxPrefixLength {
		return fmt.Errorf("%w: key prefix must be %d to %d characters", ErrInvalid, minPrefixLength, maxPrefixLength)
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("%w: key prefix may hold only lowercase letters, digits and '_'", ErrInvalid)
		}
	}
	if prefix[len(prefix)-1] != '_' {
		return fmt.Errorf("%w: key prefix must end in '_'", ErrInvalid)
	}
	return nil
}

// Prefix is the prefix every key of this format starts with.
func (f KeyFormat) Prefix() string { return f.prefix }

// Len is the length of every key of this format.
func (f KeyFormat) Len() int { return len(f.prefix) + randomChars + checksumChars }

// Generate returns a new plaintext key. It is the only place a plaintext
// key is made; callers hand it out once and keep only HashKey of it.
func (f KeyFormat) Generate() string {
	var random [randomBytes]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails (it aborts the program instead)
	key := f.compose(&random)
	clear(random[:])
	return key
}

// compose builds the key that carries random.
func (f KeyFormat) compose(random *[randomBytes]byte) string {
	p := len(f.prefix)
	buf := make([]byte, f.Len())
	copy(buf, f.prefix)
	base64.RawURLEncoding.Encode(buf[p:p+randomChars], random[:])
	putChecksum(buf[p+randomChars:], buf[:p+randomChars])
	return string(buf)
}

// putChecksum writes the checksum of body into dst (checksumChars long).
func putChecksum(dst, body []byte) {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(body))
	base64.RawURLEncoding.Encode(dst, sum[:])
}

// Check tells whether candidate is a well-formed key of this format,
// without any lookup: ErrKeyPrefix, ErrKeyMalformed or ErrKeyChecksum
// otherwise. Only keys that Generate could have produced pass. Its cost is
// bounded by the key length whatever the candidate's size.
func (f KeyFormat) Check(candidate string) error {
	p := len(f.prefix)
	if len(candidate) < p || candidate[:p] != f.prefix {
		return ErrKeyPrefix
	}
	if len(candidate) != f.Len() {
		return ErrKeyMalformed
	}
	random := candidate[p : p+randomChars]
	checksum := candidate[p+randomChars:]
	if !isBase64URL(random) || !isBase64URL(checksum) ||
		!unusedBitsZero(random[randomChars-1], 2) || !unusedBitsZero(checksum[checksumChars-1], 4) {
		return ErrKeyMalformed
	}
	var want [checksumChars]byte
	putChecksum(want[:], readOnlyBytes(candidate[:p+randomChars]))
	if string(want[:]) != checksum {
		return ErrKeyChecksum
	}
	return nil
}

// DisplayPrefix returns the non-secret part of key shown in admin lists:
// the prefix and the first 8 random characters. 48 bits of the 256 are
// revealed, which leaves nothing guessable.
func (f KeyFormat) DisplayPrefix(key string) string {
	n := len(f.prefix) + displayChars
	if len(key) < n {
		return ""
	}
	return key[:n]
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// base64URLValue maps a byte to its 6-bit value, or 0xff if it is not in
// the base64url alphabet.
var base64URLValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(base64URLAlphabet); i++ {
		t[base64URLAlphabet[i]] = byte(i)
	}
	return t
}()

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if base64URLValue[s[i]] == 0xff {
			return false
		}
	}
	return true
}

// unusedBitsZero reports whether the low bits of the last character of an
// unpadded base64 string, which carry no data, are zero as an encoder
// writes them. Without this check one random part would have several
// spellings.
func unusedBitsZero(last byte, bits uint) bool {
	return base64URLValue[last]&(1<<bits-1) == 0
}
