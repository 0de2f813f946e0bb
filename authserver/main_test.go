package authserver_test

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps op's informational logs ("registered route") out of the
// test and benchmark output; warnings and errors still show.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
