package keystore

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Id prefixes name what an id identifies.
const (
	clientIDPrefix = "cl_"
	auditIDPrefix  = "au_"
)

// crockford is Crockford's base32 alphabet. Its characters are in
// ascending ASCII order, so ids sort as the 128-bit numbers they encode.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idChars is the length of an encoded 128-bit id.
const idChars = 26

// rawID is a ULID-like id: a 48-bit big-endian millisecond timestamp and
// 80 random bits, so ids sort by creation time.
type rawID [16]byte

// newRawID returns an id for t that is greater than after (the newest id
// already stored, or the zero id). Ids made within one millisecond, or
// after the clock stepped back, follow after by one, so stored order is
// always creation order.
func newRawID(t time.Time, after rawID) rawID {
	var id rawID
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(id[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(id[2:6], uint32(ms))
	_, _ = rand.Read(id[6:]) // crypto/rand.Read never fails
	if id.compare(after) > 0 {
		return id
	}
	return after.next()
}

func (id rawID) compare(o rawID) int {
	for i := range id {
		if id[i] != o[i] {
			if id[i] < o[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// next returns id+1. Overflowing 128 bits would need the year 10889.
func (id rawID) next() rawID {
	for i := len(id) - 1; i >= 0; i-- {
		id[i]++
		if id[i] != 0 {
			break
		}
	}
	return id
}

// String encodes id in 26 Crockford base32 characters (the first carries
// only 3 bits, as in ULID).
func (id rawID) String() string {
	hi := binary.BigEndian.Uint64(id[0:8])
	lo := binary.BigEndian.Uint64(id[8:16])
	var out [idChars]byte
	for i := idChars - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// parseRawID decodes the output of String.
func parseRawID(s string) (rawID, bool) {
	if len(s) != idChars || s[0] > '7' {
		return rawID{}, false
	}
	var hi, lo uint64
	for i := 0; i < idChars; i++ {
		v := crockfordValue(s[i])
		if v < 0 {
			return rawID{}, false
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	var id rawID
	binary.BigEndian.PutUint64(id[0:8], hi)
	binary.BigEndian.PutUint64(id[8:16], lo)
	return id, true
}

func crockfordValue(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}

// newPrefixedID returns prefix plus a new id after last, the newest
// prefixed id already stored ("" when none).
func newPrefixedID(prefix string, t time.Time, last string) string {
	var after rawID
	if len(last) > len(prefix) && last[:len(prefix)] == prefix {
		after, _ = parseRawID(last[len(prefix):])
	}
	return prefix + newRawID(t, after).String()
}
