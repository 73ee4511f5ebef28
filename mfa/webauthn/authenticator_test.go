package webauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// softKey is a software authenticator and client in one, written for these
// tests from the WebAuthn Level 2 recommendation (§5.8.1 client data, §6.1
// authenticator data, §6.5.4 attestation object, §8.7 "none" attestation,
// §6.3.3 assertion signature), RFC 8152 §13.1.1 (COSE EC2 key) and RFC 8949
// (CBOR). It shares no code with go-webauthn, which it tests.
type softKey struct {
	id     []byte
	priv   *ecdsa.PrivateKey
	rpID   string // whose SHA-256 goes into the authenticator data
	origin string // what the client reports in clientDataJSON
	// counter is the signature counter; count makes each assertion
	// increment it first (false: it stays as set, like a synced passkey's 0).
	counter uint32
	count   bool
	uv      bool   // report user verification (flag UV)
	handle  []byte // the user handle kept at registration
}

func newSoftKey(t testing.TB, rpID, origin string) *softKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &softKey{id: id, priv: priv, rpID: rpID, origin: origin, count: true, uv: true}
}

// Authenticator data flags (§6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagAT = 0x40
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// options is the part of the server's publicKey options the
// authenticator reads.
type options struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	RPID string `json:"rpId"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	UserVerification       string `json:"userVerification"`
	AuthenticatorSelection struct {
		ResidentKey      string `json:"residentKey"`
		UserVerification string `json:"userVerification"`
	} `json:"authenticatorSelection"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
	ExcludeCredentials []struct {
		ID string `json:"id"`
	} `json:"excludeCredentials"`
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

func (k *softKey) flags() byte {
	f := byte(flagUP)
	if k.uv {
		f |= flagUV
	}
	return f
}

// authData is rpIdHash ‖ flags ‖ signCount, then attested credential data
// when given.
func (k *softKey) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.counter)
	return append(out, attested...)
}

// coseKey is the public key as a COSE_Key map: kty EC2, alg ES256,
// crv P-256, x, y (in CTAP2 canonical order).
func (k *softKey) coseKey(t testing.TB) []byte {
	t.Helper()
	pt, err := k.priv.PublicKey.Bytes() // 0x04 ‖ x ‖ y
	if err != nil {
		t.Fatal(err)
	}
	return cborMap(cborInt(1), cborInt(2), cborInt(3), cborInt(-7), cborInt(-1), cborInt(1),
		cborInt(-2), cborBytes(pt[1:33]), cborInt(-3), cborBytes(pt[33:]))
}

// create answers navigator.credentials.create with "none" attestation,
// as the credential JSON the page posts.
func (k *softKey) create(t testing.TB, publicKey json.RawMessage) string {
	t.Helper()
	var o options
	if err := json.Unmarshal(publicKey, &o); err != nil {
		t.Fatalf("creation options: %v", err)
	}
	k.handle = unb64(t, o.User.ID)
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(attested, k.id...)
	attested = append(attested, k.coseKey(t)...)
	auth := k.authData(k.flags()|flagAT, attested)
	att := cborMap(cborText("fmt"), cborText("none"), cborText("attStmt"), cborMap(), cborText("authData"), cborBytes(auth))
	return credentialJSON(k.id, map[string]any{
		"clientDataJSON":    b64(clientData("webauthn.create", o.Challenge, k.origin)),
		"attestationObject": b64(att),
		"transports":        []string{"usb"},
	})
}

// get answers navigator.credentials.get: the signature is ECDSA P-256 over
// authenticatorData ‖ SHA-256(clientDataJSON), DER-encoded.
func (k *softKey) get(t testing.TB, publicKey json.RawMessage) string {
	t.Helper()
	var o options
	if err := json.Unmarshal(publicKey, &o); err != nil {
		t.Fatalf("request options: %v", err)
	}
	if k.count {
		k.counter++
	}
	cd := clientData("webauthn.get", o.Challenge, k.origin)
	auth := k.authData(k.flags(), nil)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(auth), "signature": b64(sig)}
	if k.handle != nil {
		resp["userHandle"] = b64(k.handle)
	}
	return credentialJSON(k.id, resp)
}

func credentialJSON(id []byte, response map[string]any) string {
	b, _ := json.Marshal(map[string]any{"id": b64(id), "rawId": b64(id), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{}})
	return string(b)
}

// Minimal CBOR encoding (RFC 8949 §3): definite lengths only.

func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cborInt(v int64) []byte {
	if v >= 0 {
		return cborHead(0, uint64(v))
	}
	return cborHead(1, uint64(-1-v))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// cborMap encodes alternating keys and values, already encoded.
func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, b := range kv {
		out = append(out, b...)
	}
	return out
}

// TestCBOREncoding checks the encoder against RFC 8949 Appendix A.
func TestCBOREncoding(t *testing.T) {
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{cborInt(0), "00"}, {cborInt(23), "17"}, {cborInt(24), "1818"}, {cborInt(1000), "1903e8"},
		{cborInt(-1), "20"}, {cborInt(-7), "26"}, {cborInt(-1000), "3903e7"},
		{cborBytes([]byte{1, 2, 3, 4}), "4401020304"}, {cborText("IETF"), "6449455446"},
		{cborMap(cborInt(1), cborInt(2), cborInt(3), cborInt(4)), "a201020304"},
		{cborMap(), "a0"},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("encoded %s, want %s", got, c.want)
		}
	}
}
