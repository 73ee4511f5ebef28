package push

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

// qrModulePixels is the size of one QR module in the PNG; qrQuietZone the
// white border, in modules, that ISO/IEC 18004 §7.3.7 asks for.
const (
	qrModulePixels = 6
	qrQuietZone    = 4
)

// qrDataURI draws text as a QR code (error correction M) in a PNG and
// returns it as a data: URL, which the CSP's img-src allows. Every module
// is a whole number of pixels, so the code stays sharp when scaled.
func qrDataURI(text string) (template.URL, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	n := code.Bounds().Dx()
	side := (n + 2*qrQuietZone) * qrModulePixels
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := range n {
		for x := range n {
			if code.At(x, y) != color.Black {
				continue
			}
			x0, y0 := (x+qrQuietZone)*qrModulePixels, (y+qrQuietZone)*qrModulePixels
			for dy := range qrModulePixels {
				for dx := range qrModulePixels {
					img.SetGray(x0+dx, y0+dy, color.Gray{})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	// The bytes are our own PNG, base64-encoded: a safe URL for an img src.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), nil
}
