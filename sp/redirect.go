package sp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// deflaters keeps DEFLATE compressors for reuse: making one allocates some
// 800 KB, more than everything else in a brokered login together (crewjam's
// AuthnRequest.Redirect makes a new one for every request).
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(io.Discard, flate.DefaultCompression) // a valid level: no error
	return w
}}

// redirectURL is dest with el sent by the HTTP-Redirect binding
// (saml-bindings §3.4.4.1) as field param: DEFLATE, base64 and URL
// encoding, with an RSA-SHA256 signature over the query (SAMLRequest,
// RelayState if any, SigAlg, in that order) made with key. el must carry
// no enveloped signature.
func redirectURL(dest, param string, el *etree.Element, relayState string, key crypto.Signer) (string, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	var encoded bytes.Buffer
	b64 := base64.NewEncoder(base64.StdEncoding, &encoded)
	fw := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(fw)
	fw.Reset(b64)
	if _, err := doc.WriteTo(fw); err != nil {
		return "", err
	}
	if err := fw.Close(); err != nil {
		return "", err
	}
	if err := b64.Close(); err != nil {
		return "", err
	}
	q := param + "=" + url.QueryEscape(encoded.String())
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(dsig.RSASHA256SignatureMethod)
	sum := sha256.Sum256([]byte(q))
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(dest, "?") {
		sep = "&"
	}
	return dest + sep + q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig)), nil
}
