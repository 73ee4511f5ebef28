package testenv

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	dsig "github.com/russellhaering/goxmldsig"
)

// redirectMessage is a SAML message received with the HTTP-Redirect binding
// (SAML Bindings §3.4), its query signature verified.
type redirectMessage struct {
	Param      string // "SAMLRequest" or "SAMLResponse"
	XML        []byte
	RelayState string
}

// redirectHashes are the SigAlg values the SP verifies (RSA keys only).
var redirectHashes = map[string]crypto.Hash{
	dsig.RSASHA1SignatureMethod:   crypto.SHA1,
	dsig.RSASHA256SignatureMethod: crypto.SHA256,
	dsig.RSASHA512SignatureMethod: crypto.SHA512,
}

// readRedirect decodes the message in r's query and verifies its signature
// against certs. The signed octets are the parameters exactly as they
// arrived, URL-encoded, in the order of SAML Bindings §3.4.4.1.
func readRedirect(r *http.Request, certs []*x509.Certificate) (*redirectMessage, error) {
	raw := map[string]string{}
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		raw[k] = v
	}
	q := r.URL.Query()
	msg := &redirectMessage{Param: "SAMLRequest", RelayState: q.Get("RelayState")}
	if q.Get("SAMLResponse") != "" {
		msg.Param = "SAMLResponse"
	}
	if q.Get(msg.Param) == "" {
		return nil, errors.New("samlsp: no SAMLRequest or SAMLResponse in the query")
	}
	signed := msg.Param + "=" + raw[msg.Param]
	if _, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + raw["RelayState"]
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	if err := verifyRedirect(q.Get("SigAlg"), q.Get("Signature"), signed, certs); err != nil {
		return nil, err
	}
	var err error
	msg.XML, err = inflateParam(q.Get(msg.Param))
	return msg, err
}

// verifyRedirect checks the query signature with any of certs.
func verifyRedirect(sigAlg, signature, signed string, certs []*x509.Certificate) error {
	if sigAlg == "" || signature == "" {
		return errors.New("samlsp: HTTP-Redirect message is not signed")
	}
	hash, ok := redirectHashes[sigAlg]
	if !ok {
		return fmt.Errorf("samlsp: unsupported SigAlg %s", sigAlg)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("samlsp: Signature is not base64: %w", err)
	}
	h := hash.New()
	h.Write([]byte(signed))
	for _, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && rsa.VerifyPKCS1v15(pub, hash, h.Sum(nil), sig) == nil {
			return nil
		}
	}
	return errors.New("samlsp: HTTP-Redirect signature does not verify with any IdP certificate")
}

// inflateParam undoes the DEFLATE and base64 encodings (§3.4.4.1).
func inflateParam(v string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("samlsp: message is not base64: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), 1<<20))
	if err != nil {
		return nil, fmt.Errorf("samlsp: inflate message: %w", err)
	}
	return out, nil
}

// redirectURL encodes msg for the HTTP-Redirect binding to dest and signs
// the query with the SP's key (§3.4.4.1).
func (sp *SP) redirectURL(dest, param string, msg []byte, relayState string) (string, error) {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	fw.Write(msg)
	fw.Close()
	ctx := sp.saml.SigningContext()
	q := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(ctx.GetSignatureMethodIdentifier())
	sig, err := ctx.SignString(q)
	if err != nil {
		return "", fmt.Errorf("samlsp: sign redirect: %w", err)
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	if strings.Contains(dest, "?") {
		return dest + "&" + q, nil
	}
	return dest + "?" + q, nil
}
