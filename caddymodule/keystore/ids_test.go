package keystore

import (
	"testing"
	"time"
)

func TestIDsSortInCreationOrder(t *testing.T) {
	base := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var last string
	// Same millisecond, later milliseconds, and a clock that steps back:
	// every id is greater than the previous one.
	for i, at := range []time.Time{base, base, base, base.Add(time.Millisecond), base.Add(-time.Hour), base.Add(time.Hour)} {
		id := newPrefixedID(clientIDPrefix, at, last)
		if id <= last {
			t.Fatalf("id %d %q does not sort after %q", i, id, last)
		}
		raw, ok := parseRawID(id[len(clientIDPrefix):])
		if !ok || clientIDPrefix+raw.String() != id {
			t.Fatalf("id %q does not round-trip", id)
		}
		last = id
	}
}

func TestParseRawIDRefusesGarbage(t *testing.T) {
	for _, s := range []string{"", "0", "81ZZZZZZZZZZZZZZZZZZZZZZZZ", "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01arz3ndektsv4rrffq69g5fav"} {
		if _, ok := parseRawID(s); ok {
			t.Errorf("parseRawID(%q) accepted", s)
		}
	}
}
