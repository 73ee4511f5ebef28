package idp_test

import (
	"testing"

	"github.com/portcullis/portcullis/idp"
)

// BenchmarkDecodeRequest is the bounded decoding every request goes through
// before crewjam/saml sees it.
func BenchmarkDecodeRequest(b *testing.B) {
	encoded := enc(deflate([]byte(validRequest)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := idp.DecodeRequest(encoded, true); err != nil {
			b.Fatal(err)
		}
	}
}
