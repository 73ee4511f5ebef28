// Package filter owns SCIM 2.0 filter expressions and PATCH paths: it parses
// them into an AST (RFC 7644 §3.4.2.2, Figure 1, and the PATH rule of
// §3.5.2) and evaluates a filter against a resource held as decoded JSON.
// It knows nothing of HTTP, storage or schemas beyond what a filter names;
// package scim imports it and maps every *Error to the scimType
// invalidFilter or invalidPath (RFC 7644 §3.12).
//
// Decisions taken beyond the letter of the RFC:
//
//   - Filters may end a valuePath with a sub-attribute comparison, as in
//     emails[type eq "work"].value eq "a@b.c". RFC 7644 allows the
//     sub-attribute only in PATCH paths, but Microsoft Entra ID sends it in
//     GET filters, so it is accepted: it matches when one element both
//     satisfies the bracketed filter and has a sub-attribute that compares
//     true.
//   - A boolean attribute compared with the string "true" or "false" (any
//     case) compares as a boolean, because Entra ID quotes booleans.
//   - A multi-valued or single complex attribute compared without a
//     sub-attribute compares its "value" sub-attribute, so
//     emails co "example.com" works as clients expect (RFC 7644 §3.4.2.2
//     leaves this to the server).
//   - Null and absence are one state (RFC 7643 §2.5): "eq null" matches an
//     unassigned, null or empty multi-valued attribute and "ne null" matches
//     the rest; "ne" with any other value matches an absent attribute, every
//     other operator does not. "pr" further treats "" and {} as absent.
//   - Strings compare without case unless Options.CaseExact says otherwise
//     (the caseExact characteristic, RFC 7643 §2.2); two strings that both
//     parse as RFC 3339 timestamps compare as instants.
//
// Hostile input is bounded: filter and path text is limited to MaxLen bytes
// and grouping (parentheses, "not", brackets) to MaxDepth levels, so parsing
// never panics and recursion stays shallow.
package filter
