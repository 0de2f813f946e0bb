package store_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/gatehouse-gw/gatehouse/authserver/store"
	"github.com/gatehouse-gw/gatehouse/authserver/store/conformance"
)

func TestBoltConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store {
		st, err := store.OpenBolt(filepath.Join(t.TempDir(), "authserver.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

func TestBoltLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver.db")
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := store.OpenBolt(path); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestBoltReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "authserver.db")
	st, err := store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(t.Context(), store.Client{ID: "svc"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = store.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetClient(t.Context(), "svc"); err != nil {
		t.Fatalf("client lost across reopen: %v", err)
	}
}
