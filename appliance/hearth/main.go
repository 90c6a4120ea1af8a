// Command hearth is the Hearth homeserver. The main only parses the command
// line and hands over to library packages.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := "run"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "version":
		fmt.Println("hearth (development)")
		return 0
	default:
		fmt.Fprintf(os.Stderr, "hearth: %q: the homeserver is not built yet (see issue 3); only the protocol core exists\n", cmd)
		return 2
	}
}
