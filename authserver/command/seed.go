package command

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/authserver"
	"github.com/gatehouse-gw/gatehouse/authserver/store"
)

func seedCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "seed FILE",
		Short: "Apply the entries of a seed file that were not applied before",
		Long: `Reads a JSON seed file and applies each entry once: its client or user is
created if missing (an existing one is left unchanged), and the entry is
recorded in the store. An entry applied before is skipped, so a client or
user removed with a command stays removed. An entry counts as new when any
field other than client_secret or password changes.

  {"clients": [{"client_id": "billing", "client_secret": "<32+ chars>",
                "grant_types": ["client_credentials"], "scopes": ["admin.read"]}],
   "users":   [{"username": "alice", "password": "...", "name": "Alice"}]}

A confidential client needs its client_secret in the file (at least 32
characters, e.g. openssl rand -base64 32); a public client has none.
Nothing is applied if any entry is invalid.

Client fields: client_id, name, client_secret, public, grant_types,
scopes, redirect_uris, post_logout_redirect_uris, audience, scope_format,
access_token_lifetime, refresh_token_lifetime, code_lifetime (seconds).
User fields: username, password, name, given_name, family_name, email,
email_verified.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seed, err := authserver.LoadSeed(args[0])
			if err != nil {
				return err
			}
			return g.withStore(func(st store.Store) error {
				report, err := authserver.ApplySeed(cmd.Context(), st, seed, time.Now())
				printReport(cmd.OutOrStdout(), report)
				return err
			})
		},
	}
}

func printReport(w io.Writer, r authserver.SeedReport) {
	for _, line := range []struct {
		label   string
		entries []string
	}{
		{"created", r.Created},
		{"existed, left unchanged", r.Existing},
		{"applied before, skipped", r.Skipped},
	} {
		if len(line.entries) > 0 {
			fmt.Fprintf(w, "%s: %s\n", line.label, strings.Join(line.entries, ", "))
		}
	}
	if len(r.Created)+len(r.Existing)+len(r.Skipped) == 0 {
		fmt.Fprintln(w, "the seed file has no entries")
	}
}
