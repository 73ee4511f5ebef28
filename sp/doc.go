// Package sp is the SAML 2.0 service provider side of identity brokering:
// Portcullis receiving a Response from an organisation's upstream IdP. For
// now it holds the validation core, ParseResponse, and the registry's
// pieces: an upstream IdP's Settings (how users are linked, just-in-time
// creation, group mapping, whether its MFA statement is trusted, what must
// be signed) and ParseMetadata, which reads its entity ID, SSO and SLO
// endpoints and signing certificates (`gateway idps add|list|remove|
// refresh`). The HTTP flows (ACS, SP-initiated login, SLO, our SP
// metadata) are wired on top of them.
//
// ParseResponse(samlResponse, Expect) takes the SAMLResponse form field of
// the HTTP-POST binding and returns the one Assertion, or an *Error whose
// Reason (ReasonSignature, ReasonWrapping, ...) goes to the log and the
// audit trail while the browser gets a generic page.
//
// Decisions:
//   - Bounded and plain before anything else: the field at most twice
//     MaxResponseBytes (256 KiB) of base64, strictly decoded, the XML at
//     most MaxResponseBytes and 64 levels deep, one root, no repeated
//     attribute, and any DOCTYPE or entity declaration refused (XXE,
//     billion laughs), all by one encoding/xml pass before etree parses.
//   - Signature wrapping is refused twice. First by layout: a Response or
//     Assertion (plain or encrypted) anywhere but as the root and its one
//     direct child, or a ds:Signature anywhere but directly in the root
//     and a plain Assertion, is ReasonWrapping; two direct assertions are
//     ReasonMultipleAssertions. Then by reading only what a signature
//     covers: goxmldsig returns the signed element re-parsed from the
//     canonical bytes it digested, and every check and every value comes
//     from that copy. A signed Response is verified first and its
//     Assertion taken from the verified copy; a signed Assertion is
//     verified as found there, its Reference URI required to be "#" + its
//     own ID (SAML Core §5.4.2), one Reference, SHA-2 only.
//   - Signatures are verified against Expect.Certs only. KeyInfo is removed
//     from the copy given to goxmldsig, and each registered certificate is
//     tried in turn (a rollover registers two). Expect.Want says which part
//     must be signed; its zero value, SignedEither, still needs one. Every
//     signature present is verified, wanted or not.
//   - Text is read whole: all text nodes of an element joined, child
//     elements refused, so a comment splitting a NameID
//     (admin@example.com<!---->.evil.com) cannot shorten the identity,
//     whichever c14n the signature used.
//   - Checks (SAML Core §2.3–§2.7, §3.2.2; Profiles §4.1.4.2–3; Bindings
//     §3.5.5.2): Status Success; Version 2.0; IssueInstant not after
//     Now+Skew; every Issuer equals Expect.IdPEntityID (the Response's is
//     optional); Destination equals ACS when present and is required on a
//     signed Response; one Subject with one NameID; a bearer
//     SubjectConfirmation whose Data has Recipient = ACS, NotOnOrAfter (not
//     passed), no NotBefore; one Conditions whose window holds, every
//     AudienceRestriction naming Expect.EntityID, and no condition this SP
//     does not know (OneTimeUse and ProxyRestriction are known); at least
//     one AuthnStatement. Skew applies both ways.
//   - InResponseTo: with Expect.RequestIDs nil only unsolicited Responses
//     pass (no InResponseTo anywhere); otherwise the Response's and the
//     bearer confirmation's must be equal and RequestIDs must accept it.
//     RequestIDs is called last, so it may consume the request ID.
//   - EncryptedAssertion (SAML Core §2.3.4) is decrypted with
//     Expect.DecryptionKeys, each tried in turn; with none it is
//     ReasonEncryptedUnsupported. It counts as the Response's one assertion
//     (an EncryptedAssertion beside another, or beside an Assertion, is
//     ReasonMultipleAssertions), and the Response must then have an Issuer
//     (Profiles §4.1.4.2). Order: a signed Response is verified first and
//     the EncryptedAssertion decrypted from the verified copy; the
//     plaintext, bounded by MaxResponseBytes and scanned like the message,
//     must be one saml:Assertion, gets the layout check of a plain one
//     (a nested Assertion is ReasonWrapping), and only then is its own
//     signature verified. Key transport RSA-OAEP only (rsa-oaep-mgf1p,
//     xmlenc11 rsa-oaep): RSA PKCS#1 v1.5 is refused (Bleichenbacher).
//     Data AES-GCM or AES-CBC; CBC, having no integrity, needs the
//     Response or the decrypted Assertion signed (ReasonSignature). Any
//     other failure to decrypt is ReasonDecryption. encrypted.go says
//     how xmlenc is kept to these algorithms and keys.
//   - CBC under an unsigned Response is decrypted before any signature
//     can be checked, so whether a forged ciphertext parses shows, at
//     least in timing (the Jager–Somorovsky attack on XML Encryption).
//     With Want SignedResponse or SignedBoth an unsigned Response is
//     refused before decryption; an IdP that encrypts with CBC should be
//     registered so, or use AES-GCM.
//   - EncryptedID and EncryptedAttribute stay refused as
//     ReasonEncryptedUnsupported: they are rare, and an EncryptedID
//     would have to be decrypted before the NameID is read.
//   - Not done here, left to the caller: the assertion-ID replay cache
//     (Assertion.ID until Assertion.NotOnOrAfter, in the shared session
//     backend so every node sees it).
//
// Tests keep the attack corpus in testdata/attacks, one case per file,
// each opening with a comment naming the attack and the expected Reason;
// go test ./sp -update regenerates it from the fixed test keys in testdata.
//
// sp is layer 2: it imports no other domain package.
package sp
