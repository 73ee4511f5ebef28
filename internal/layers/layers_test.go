package layers

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", Module+"/...").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		from := strings.TrimPrefix(strings.TrimPrefix(fields[0], Module), "/")
		if _, _, ok := Of(from); !ok {
			t.Errorf("package %s has no layer in layers.Layer", from)
			continue
		}
		for _, imp := range fields[1:] {
			to, ours := strings.CutPrefix(imp, Module+"/")
			if ours && !Allowed(from, to) {
				t.Errorf("%s (layer %d) imports %s (layer %d)", from, layerOf(from), to, layerOf(to))
			}
		}
	}
}

func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		from, to string
		want     bool
	}{
		{"store/sqlite", "store/sqlstore", true},
		{"store", "audit", true},
		{"audit", "store", false},
		{"web", "session", false},
		{"portal", "web", true},
		{"portal", "idp", false},
		{"internal/server", "portal", true},
	} {
		if got := Allowed(c.from, c.to); got != c.want {
			t.Errorf("Allowed(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func layerOf(p string) int {
	_, l, _ := Of(p)
	return l
}
