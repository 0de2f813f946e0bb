// Package examples holds the Caddyfile examples that the operator
// documentation (docs/operating.md and docs/caddyfile.md) quotes. Its test
// keeps the documents honest:
//
//   - every *.Caddyfile here, and the root Caddyfile, is adapted by the real
//     Caddyfile adapter with Caddy's standard modules and Gatehouse's
//     modules; any error or warning (an unformatted file is one) fails;
//   - the examples that need no network are also provisioned and validated
//     by caddy.Validate, in a temporary directory;
//   - every bearer track of every example passes the track's own checks,
//     which need no network;
//   - every ```caddyfile block of docs/*.md is exactly the content of one
//     example file, named on the line before the block, and every example
//     file is quoted somewhere;
//   - docs/operating.md lists every environment variable that the root
//     Caddyfile and the stand-ins read, with its default;
//   - docs/caddyfile.md names every Gatehouse module ID.
package examples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse-gw/gatehouse/caddymodule/bearer"
	_ "github.com/gatehouse-gw/gatehouse/plugins"
)

// Paths relative to this package's directory, where `go test` runs.
const (
	docsDir         = ".."
	rootCaddyfile   = "../../Caddyfile"
	standinsFile    = "../../test/standins/Caddyfile"
	operatingGuide  = "../operating.md"
	referenceManual = "../caddyfile.md"
)

// exampleEnv is the environment the examples are adapted in: the
// variables docs/operating.md tells an operator to set for a real
// deployment. Two upstreams in one variable become two upstreams.
var exampleEnv = map[string]string{
	"GATEHOUSE_ADMIN_UPSTREAM": "admin.internal:8080",
	"GATEHOUSE_POS_UPSTREAM":   "pos-1.internal:8080 pos-2.internal:8080",
	"GATEHOUSE_DATA_DIR":       "/var/lib/gatehouse",
}

// rootEnvs are the environments the root Caddyfile is adapted in: the
// default start, and the deployment settings docs/operating.md describes.
var rootEnvs = map[string]map[string]string{
	"defaults": {},
	"deployment": {
		"GATEHOUSE_BIND":           "0.0.0.0 ::",
		"GATEHOUSE_ADMIN_UPSTREAM": "admin.internal:8080",
		"GATEHOUSE_POS_UPSTREAM":   "https://pos.internal",
		"GATEHOUSE_STANDINS":       "/dev/null",
		"GATEHOUSE_DATA_DIR":       "/var/lib/gatehouse",
		"GATEHOUSE_POS_HOST":       "",
		"GATEHOUSE_ADMIN_HOST":     "",
	},
}

// setEnv clears every GATEHOUSE_* variable of the test process, so that
// defaults are what the files say, then sets env. t.Setenv restores the
// process environment when the test ends.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GATEHOUSE_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	for name, value := range env {
		t.Setenv(name, value)
	}
}

// exampleFiles lists docs/examples/*.Caddyfile.
func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no *.Caddyfile examples found")
	}
	return files
}

// adapt runs the Caddyfile adapter on path, failing the test on any error
// or warning, and returns the JSON config.
func adapt(t *testing.T, path string) []byte {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": abs})
	if err != nil {
		t.Fatalf("adapting %s: %v", path, err)
	}
	for _, w := range warnings {
		t.Errorf("adapting %s: warning: %s", path, w.String())
	}
	return cfg
}

func TestExamplesAdapt(t *testing.T) {
	for _, file := range exampleFiles(t) {
		t.Run(file, func(t *testing.T) {
			setEnv(t, exampleEnv)
			checkBearerTracks(t, adapt(t, file))
		})
	}
}

func TestRootCaddyfileAdapts(t *testing.T) {
	for name, env := range rootEnvs {
		t.Run(name, func(t *testing.T) {
			setEnv(t, env)
			checkBearerTracks(t, adapt(t, rootCaddyfile))
		})
	}
}

// checkBearerTracks runs the bearer track's own validation on every
// gatehouse_bearer config in cfg, wherever it sits (a gatehouse track or a
// provider of Caddy's authentication handler). Provisioning would contact
// the issuer; Validate does not.
func checkBearerTracks(t *testing.T, cfg []byte) {
	t.Helper()
	var tree any
	if err := json.Unmarshal(cfg, &tree); err != nil {
		t.Fatal(err)
	}
	found := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, child := range v {
				if key == "gatehouse_bearer" {
					found++
					raw, _ := json.Marshal(child)
					var p bearer.Provider
					if err := json.Unmarshal(raw, &p); err != nil {
						t.Errorf("bearer track %s: %v", raw, err)
					} else if err := p.Validate(); err != nil {
						t.Errorf("bearer track %s: %v", raw, err)
					}
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(tree)
	t.Logf("%d bearer track(s) checked", found)
}

// needsNetwork reports whether provisioning cfg would reach outside this
// machine or the test's directory: a bearer track fetches its issuer's
// keys, and a site on :443 means automatic HTTPS.
func needsNetwork(cfg []byte) bool {
	return bytes.Contains(cfg, []byte(`"gatehouse_bearer"`)) || bytes.Contains(cfg, []byte(`":443"`))
}

// TestExamplesValidate provisions and validates, without starting any
// server, each example that needs no network, with its data directory in
// a temporary directory that is also the working directory.
func TestExamplesValidate(t *testing.T) {
	validated := 0
	for _, file := range exampleFiles(t) {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{}
			for k, v := range exampleEnv {
				env[k] = v
			}
			env["GATEHOUSE_DATA_DIR"] = filepath.Join(dir, "data")
			setEnv(t, env)
			cfgJSON := adapt(t, abs)
			if needsNetwork(cfgJSON) {
				t.Skip("provisioning needs the network (bearer issuer or automatic HTTPS); adapted only")
			}
			t.Chdir(dir)
			var cfg caddy.Config
			if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
				t.Fatal(err)
			}
			if err := caddy.Validate(&cfg); err != nil {
				t.Fatalf("validating %s: %v", file, err)
			}
			validated++
		})
	}
	if validated == 0 {
		t.Error("no example was validated; keep at least one example that needs no network")
	}
}

// fencedBlock is a ```caddyfile block of a document.
type fencedBlock struct {
	doc     string
	line    int    // line of the opening fence
	caption string // the last non-blank line before the fence
	body    string
}

// caddyfileBlocks extracts the ```caddyfile blocks of a Markdown file.
// Fences must start at the beginning of a line.
func caddyfileBlocks(t *testing.T, doc string) []fencedBlock {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []fencedBlock
		current *fencedBlock
		inOther bool
		caption string
		n       int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case current != nil && line == "```":
			blocks = append(blocks, *current)
			current = nil
		case current != nil:
			current.body += line + "\n"
		case inOther && strings.HasPrefix(line, "```"):
			inOther = false
		case inOther:
		case strings.HasPrefix(line, "```"):
			if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(line, "```")), "caddyfile") {
				current = &fencedBlock{doc: doc, line: n, caption: caption}
			} else {
				inOther = true
			}
		case strings.TrimSpace(line) != "":
			caption = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if current != nil {
		t.Errorf("%s:%d: caddyfile block never closed", doc, current.line)
	}
	return blocks
}

// TestDocsQuoteExamples makes every Caddyfile shown in docs/*.md one of the
// tested files, word for word, and every tested file shown somewhere.
func TestDocsQuoteExamples(t *testing.T) {
	examples := map[string]string{}
	for _, file := range exampleFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		examples[file] = string(b)
	}
	docs, err := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	quoted := map[string]bool{}
	for _, doc := range docs {
		for _, b := range caddyfileBlocks(t, doc) {
			name := ""
			for file := range examples {
				if strings.Contains(b.caption, "examples/"+file) {
					name = file
				}
			}
			switch {
			case name == "":
				t.Errorf("%s:%d: the line before a caddyfile block must name its file (examples/NAME.Caddyfile); it is %q", b.doc, b.line, b.caption)
			case b.body != examples[name]:
				t.Errorf("%s:%d: the block differs from docs/examples/%s; copy the file into the document", b.doc, b.line, name)
			default:
				quoted[name] = true
			}
		}
	}
	for file := range examples {
		if !quoted[file] {
			t.Errorf("docs/examples/%s is quoted by no document", file)
		}
	}
}

// envReference matches {$NAME} and {$NAME:default} in a Caddyfile.
var envReference = regexp.MustCompile(`\{\$([A-Za-z0-9_]+)(?::([^}]*))?\}`)

// TestOperatingGuideListsEnvironment requires, for every variable the
// default start reads, a line of docs/operating.md naming it and its
// default, both in backquotes (a table row).
func TestOperatingGuideListsEnvironment(t *testing.T) {
	guide, err := os.ReadFile(operatingGuide)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(guide), "\n")
	seen := map[string]bool{}
	for _, file := range []string{rootCaddyfile, standinsFile} {
		body, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envReference.FindAllStringSubmatch(string(body), -1) {
			name, def := m[1], m[2]
			if seen[m[0]] {
				continue
			}
			seen[m[0]] = true
			documented := false
			for _, line := range lines {
				if strings.Contains(line, "`"+name+"`") && (def == "" || strings.Contains(line, "`"+def+"`")) {
					documented = true
					break
				}
			}
			if !documented {
				t.Errorf("%s reads %s (default %q); docs/operating.md has no line with `%s` and `%s`", file, name, def, name, def)
			}
		}
	}
}

// TestReferenceNamesModules requires docs/caddyfile.md to name every
// Gatehouse module ID, for JSON users.
func TestReferenceNamesModules(t *testing.T) {
	ref, err := os.ReadFile(referenceManual)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range caddy.Modules() {
		if !strings.Contains(id, "gatehouse") {
			continue
		}
		n++
		if !strings.Contains(string(ref), "`"+id+"`") {
			t.Errorf("docs/caddyfile.md does not name the module `%s`", id)
		}
	}
	if n == 0 {
		t.Error("no Gatehouse module is registered; is plugins imported?")
	}
}
