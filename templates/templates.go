// Package templates holds the HTML pages of the Portcullis browser UI as
// html/template sources. Every page is executed together with layout.html,
// which draws the document skeleton and calls the blocks "title" and
// "content" that each page file defines. Package web parses them, lets an
// operator replace any file from a directory, and documents what data each
// page expects.
//
// Layer 0: imports nothing of Portcullis.
package templates

import "embed"

// FS holds the template files at its root, e.g. "login.html".
//
//go:embed *.html
var FS embed.FS
