package sp

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseResponse feeds XML (base64-encoded here, as the form carries
// it) seeded from the attack corpus. It must never panic, and whatever it
// accepts must be, in content, one of the valid seeds' assertions: no
// mutation may produce a new identity or new claims.
func FuzzParseResponse(f *testing.F) {
	idp := loadKey(f, "idp")
	e := expect(idp.cert)
	files, err := filepath.Glob(filepath.Join("testdata", "attacks", "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no corpus: %v", err)
	}
	var valid []*Assertion
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if a, err := ParseResponse(encode(string(b)), e); err == nil {
			valid = append(valid, a)
		}
	}
	f.Fuzz(func(t *testing.T, xml []byte) {
		a, err := ParseResponse(encode(string(xml)), e)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, v := range valid {
			if reflect.DeepEqual(a, v) {
				return
			}
		}
		t.Fatalf("accepted a new assertion %+v", a)
	})
}
