// Package sp is the SAML 2.0 service provider side of identity brokering:
// Portcullis signing people in through an organisation's upstream IdP
// (Okta, Entra ID, AD FS, another Portcullis), then running its own MFA
// policy before its IdP answers the app. It holds the registry's pieces (an
// upstream IdP's Settings and ParseMetadata, used by `gateway idps`), the
// validation core ParseResponse, and Handler, which serves
//
//	GET  /saml/sp/metadata   our SP metadata
//	GET  /saml/sp/login      ?idp=NAME[&return=…][&prompt=login]: a signed AuthnRequest
//	POST /saml/sp/acs        the Response: validate, link, map groups, sign in
//	GET,POST /saml/sp/slo    single logout with the upstream IdP, both ways
//
// The portal's /login shows a button per IdP (LoginChoices); the IdP's
// single logout ends with the upstream's (UpstreamLogout).
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
//
// Decisions of the HTTP flows:
//   - Requests are tied to the browser. /saml/sp/login stores the
//     AuthnRequest ID in the session backend for RequestTTL with the IdP
//     and the return target, under the hash of a random cookie
//     (portcullis_sp, path /saml/sp/, SameSite=None and Secure over https,
//     since the IdP answers with a cross-site POST; Lax over plain http,
//     which only works when the IdP is same-site). The ACS accepts a
//     Response only from that browser, for that IdP, once: the first node
//     to claim the ID wins.
//   - Which IdP a Response comes from is the issuer it claims; that IdP's
//     registered certificates then verify it and the claim is checked like
//     any field. A Response from no registered IdP is ReasonUnknownIdP.
//   - Replay: every accepted assertion ID is claimed in the session backend
//     until its NotOnOrAfter plus the skew, so it is refused on every node
//     (ReasonReplay), solicited or not.
//   - Unsolicited Responses (IdP-initiated) pass only for an IdP with
//     allow_unsolicited; their RelayState is used as the return target only
//     when it is a local path or an allowed forward-auth host.
//   - Every refusal is a 403 "Sign-in refused" page that names no reason,
//     and an sp.login event (outcome denied, Details["reason"] the Reason);
//     a backend failure is 503. Neither ever makes a session.
//   - Linking (Settings.Link): "email" matches our user's email, ignoring
//     case, taken from the first of the email attributes (email, mail,
//     the OID and the WS-Federation claim) or else a NameID of format
//     emailAddress or unspecified holding an address (Okta's default).
//     "nameid" and "attribute" follow the link recorded in the store
//     (store.IdPLink) at the first login, which links to the user with the
//     asserted email when there is one: an existing account is taken over,
//     not duplicated, and the link holds when the email changes. A
//     transient NameID cannot link. With create_users a user without a link
//     is created with no password (they sign in through the IdP), named
//     from displayName or givenName and sn; without an email none is made.
//     A disabled user is refused (ReasonUserDisabled). Linking, creating,
//     group mapping and the sp.login event are one transaction: a refusal
//     on the way writes nothing.
//   - Groups (Settings.GroupsAttribute) follow the attribute at every
//     login: each named group is joined, created when missing with
//     ExternalID "idp:NAME"; groups with that ExternalID that the assertion
//     no longer names are left. Groups an admin or SCIM made are only ever
//     joined, never left, here. At most MaxMappedGroups names of at most
//     MaxGroupNameLength bytes are read.
//   - The session records the factor "upstream" and, when the IdP's MFA
//     statement is trusted (trust_mfa and REFEDS MFA), "upstream_mfa" as of
//     the AuthnInstant: the app's MFA policy decides what else is asked.
//     The upstream NameID, its format and SessionIndex are kept in the
//     session's values for single logout.
//   - Single logout: our logout (portal or app) ends with a signed
//     LogoutRequest to the upstream IdP when it has an SLO endpoint
//     (HTTP-Redirect preferred), answered at /saml/sp/slo and checked by
//     crewjam against our recorded request ID, in the browser that sent it.
//     An upstream LogoutRequest, verified by crewjam against the IdP's
//     certificates and claimed against replay, ends this browser's session
//     when it names it (IdP, NameID and any SessionIndex), logs the apps
//     out through the IdP's chain, then is answered Success; naming no
//     session here is answered Success too. A cross-site POST without our
//     SameSite=Lax cookie is posted again from our own page first.
//   - Our SP signs with the gateway's active signing key, shared with the
//     IdP; metadata lists it for signing and encryption, and every other
//     published certificate for signing. Only the active key decrypts:
//     during a rotation an IdP still encrypting to the old certificate
//     fails until it refreshes our metadata.
//
// Tests keep the attack corpus in testdata/attacks, one case per file,
// each opening with a comment naming the attack and the expected Reason;
// go test ./sp -update regenerates it from the fixed test keys in testdata.
//
// sp is layer 2: it imports no other domain package.
package sp
