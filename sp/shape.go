package sp

import (
	"strings"

	"github.com/beevik/etree"
)

// checkShape refuses, before any signature work, every layout an XML
// signature wrapping attack needs: a Response or Assertion (plain or
// encrypted) anywhere but as the root and its one direct child, and a
// ds:Signature anywhere but directly in the root and a plain Assertion. The
// signature check below would refuse these too, since it only ever uses the
// element a signature covers; this makes the reason precise. The Assertion
// an EncryptedAssertion holds is checked the same way once decrypted
// (parseDecrypted).
func checkShape(root *etree.Element) error {
	if !is(root, samlpNS, "Response") {
		return refuse(ReasonMalformed, "root element is <%s> in %q, want samlp:Response", root.Tag, root.NamespaceURI())
	}
	var direct int
	for _, c := range root.ChildElements() {
		switch {
		case is(c, samlNS, "Assertion"), is(c, samlNS, "EncryptedAssertion"):
			direct++
			if err := walk(c, c.Tag == "Assertion"); err != nil {
				return err
			}
			continue
		case is(c, dsigNS, "Signature"):
		default:
			if err := placed(c, root); err != nil {
				return err
			}
		}
		if err := walk(c, false); err != nil {
			return err
		}
	}
	switch {
	case direct > 1:
		return refuse(ReasonMultipleAssertions, "Response has %d assertions, want 1", direct)
	case direct == 0:
		return refuse(ReasonMalformed, "Response has no Assertion")
	}
	return nil
}

// walk checks the subtree under el. In the Response's own Assertion, or
// the one decrypted (assertion set), a Signature child is allowed; nowhere
// else below.
func walk(el *etree.Element, assertion bool) error {
	for _, c := range el.ChildElements() {
		if !(assertion && is(c, dsigNS, "Signature")) {
			if err := placed(c, el); err != nil {
				return err
			}
		}
		if err := walk(c, false); err != nil {
			return err
		}
	}
	return nil
}

// placed refuses a Response, Assertion (plain or encrypted) or Signature
// where SAML puts none, and the other encrypted elements (EncryptedID,
// EncryptedAttribute), which this SP does not decrypt.
func placed(c, parent *etree.Element) error {
	ns := c.NamespaceURI()
	switch {
	case ns == samlNS && (c.Tag == "Assertion" || c.Tag == "EncryptedAssertion"),
		ns == samlpNS && c.Tag == "Response", ns == dsigNS && c.Tag == "Signature":
		return refuse(ReasonWrapping, "<%s> inside <%s>", c.Tag, parent.Tag)
	case ns == samlNS && strings.HasPrefix(c.Tag, "Encrypted"):
		return refuse(ReasonEncryptedUnsupported, "<%s> is not supported", c.Tag)
	}
	return nil
}

// checkStatus requires Success (SAML Core §3.2.2.2). Read from the message
// as received: a refusal needs no signature.
func checkStatus(root *etree.Element) error {
	status, err := only(root, samlpNS, "Status")
	if err != nil {
		return err
	}
	code, err := only(status, samlpNS, "StatusCode")
	if err != nil {
		return err
	}
	if v := attr(code, "Value"); v != statusSuccess {
		var sub, msg string
		if c := children(code, samlpNS, "StatusCode"); len(c) > 0 {
			sub = attr(c[0], "Value")
		}
		if m := children(status, samlpNS, "StatusMessage"); len(m) > 0 {
			msg, _ = text(m[0])
		}
		return refuse(ReasonStatus, "status %q (%q): %q", v, sub, msg)
	}
	return nil
}
