package keyscmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-gw/gatehouse/caddymodule/keystore"
)

// clientView is a client as printed with --json; the field names are the
// admin API's. APIKey is set only in the answer to create and rotate.
type clientView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Scopes     []string          `json:"scopes"`
	Status     keystore.Status   `json:"status"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	KeyPrefix  string            `json:"key_prefix"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	LastUsedAt *time.Time        `json:"last_used_at"`
	Rotation   *rotationView     `json:"rotation,omitempty"`
	APIKey     string            `json:"api_key,omitempty"`
}

// rotationView is a pending rotation: the old key works until ExpiresAt.
type rotationView struct {
	PreviousKeyPrefix string    `json:"previous_key_prefix"`
	ExpiresAt         time.Time `json:"expires_at"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func viewOf(c keystore.Client, apiKey string) clientView {
	v := clientView{
		ID: c.ID, Name: c.Name, Scopes: c.Scopes, Status: c.Status, Metadata: c.Metadata,
		KeyPrefix: c.Key.Prefix, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		ExpiresAt: optionalTime(c.ExpiresAt), LastUsedAt: optionalTime(c.LastUsedAt), APIKey: apiKey,
	}
	if c.Retiring != nil {
		v.Rotation = &rotationView{PreviousKeyPrefix: c.Retiring.Prefix, ExpiresAt: c.Retiring.ExpiresAt}
	}
	return v
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

// printClient prints one client and, after create or rotate, its key.
func (g *globals) printClient(cmd *cobra.Command, c keystore.Client, apiKey string) error {
	out := cmd.OutOrStdout()
	if g.json {
		return writeJSON(out, viewOf(c, apiKey))
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"id", c.ID},
		{"name", c.Name},
		{"status", string(c.Status)},
		{"scopes", strings.Join(c.Scopes, " ")},
		{"key prefix", c.Key.Prefix},
		{"created", formatTime(c.CreatedAt, "")},
		{"updated", formatTime(c.UpdatedAt, "")},
		{"expires", formatTime(c.ExpiresAt, "never")},
		{"last used", formatTime(c.LastUsedAt, "never")},
	}
	if c.Retiring != nil {
		rows = append(rows, [2]string{"previous key", c.Retiring.Prefix + " accepted until " + formatTime(c.Retiring.ExpiresAt, "")})
	}
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, [2]string{"metadata " + k, c.Metadata[k]})
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if apiKey != "" {
		_, err := fmt.Fprintf(out, "\nAPI key (shown only this once; store it securely):\n%s\n", apiKey)
		return err
	}
	return nil
}

// printList prints clients as a table, or as {"clients": [...]}.
func (g *globals) printList(cmd *cobra.Command, clients []keystore.Client) error {
	out := cmd.OutOrStdout()
	if g.json {
		views := make([]clientView, 0, len(clients))
		for _, c := range clients {
			views = append(views, viewOf(c, ""))
		}
		return writeJSON(out, struct {
			Clients []clientView `json:"clients"`
		}{views})
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tKEY PREFIX\tSCOPES\tCREATED\tLAST USED")
	for _, c := range clients {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Status, c.Key.Prefix,
			strings.Join(c.Scopes, " "), formatTime(c.CreatedAt, ""), formatTime(c.LastUsedAt, "never"))
	}
	return tw.Flush()
}

func (g *globals) printDeleted(cmd *cobra.Command, id string) error {
	out := cmd.OutOrStdout()
	if g.json {
		return writeJSON(out, struct {
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
		}{id, true})
	}
	_, err := fmt.Fprintf(out, "deleted %s\n", id)
	return err
}
