package mfatest_test

import (
	"os/exec"
	"strings"
	"testing"
)

const self = "github.com/portcullis/portcullis/mfa/mfatest"

// TestOnlyTestsImport keeps mfatest test support: go list's Imports are
// those of a package's own files, so any package listed imports it outside
// its tests.
func TestOnlyTestsImport(t *testing.T) {
	format := `{{range .Imports}}{{if eq . "` + self + `"}}{{$.ImportPath}} {{end}}{{end}}`
	out, err := exec.Command("go", "list", "-e", "-f", format, "github.com/portcullis/portcullis/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if importers := strings.Fields(string(out)); len(importers) > 0 {
		t.Errorf("imported by non-test code of %v", importers)
	}
}
