package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the run's figures, one per line, and what was skipped.
func WriteTable(w io.Writer, r *Run) error {
	fmt.Fprintf(w, "server %s %s (%s)\n", r.Server.Label, r.Server.Version, r.Server.URL)
	fmt.Fprintf(w, "machine %s, %d cores, %d MiB\n", r.Machine.CPUModel, r.Machine.Cores, r.Machine.MemoryMiB)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue\tunit")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Scenario, f.Name, FormatValue(f.Value), f.Unit)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Scenario, s.Reason)
	}
	return nil
}

// FormatValue prints a figure with about four significant digits.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1e9:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if strings.Contains(s, "e") {
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	return s
}
