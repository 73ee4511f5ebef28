package idp_test

import (
	"testing"

	"github.com/portcullis/portcullis/bench"
	"github.com/portcullis/portcullis/idp"
)

// BenchmarkSSO is one SP-initiated SSO for a user who already has a
// session, through the handler on SQLite and memory sessions, on every core.
// bench.BenchmarkSSOVersusRSA sets it against the signature it costs.
func BenchmarkSSO(b *testing.B) {
	s, err := bench.NewSSO(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Do(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRSA2048Sign is the baseline the SSO is compared with: the raw
// RSA-2048 PKCS#1 v1.5 SHA-256 signature, on every core.
func BenchmarkRSA2048Sign(b *testing.B) {
	sign := bench.Signer(testKey(b).Key)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := sign(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

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
