package main

import (
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X main.Version=v1.2.3";
// otherwise it comes from the module's build information.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func (c *cli) version(args []string) error {
	fs := c.flags("version")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]string{"version": version(), "go": runtime.Version()})
	}
	c.table([]string{"portcullis", version()}, [][]string{{"go", runtime.Version()}})
	return nil
}
