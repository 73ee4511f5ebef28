package idp

import "testing"

func TestFieldAttrsEscape(t *testing.T) {
	for f, want := range map[Field]string{
		{"SAMLResponse", "PHNhbWw+Zm9v/w=="}:             `name="SAMLResponse" value="PHNhbWw+Zm9v/w=="`,
		{"RelayState", `x&y"><script>alert(1)</script>`}: `name="RelayState" value="x&amp;y&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`,
		{"RelayState", "it's"}:                           `name="RelayState" value="it&#39;s"`,
	} {
		if got := string(f.Attrs()); got != want {
			t.Errorf("Attrs(%q) = %s, want %s", f.Value, got, want)
		}
	}
}
