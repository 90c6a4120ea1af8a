package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Comparison is one figure of two runs side by side.
type Comparison struct {
	Scenario, Name, Unit string
	// Better is "lower" or "higher" (or empty), as the runs say.
	Better     string
	A, B       float64
	HasA, HasB bool
	// Ratio is B/A; 0 when either side is missing or A is zero.
	Ratio float64
}

// Compare matches the figures of a and b by scenario and name, in a's
// order followed by figures only b has.
func Compare(a, b *Run) []Comparison {
	type key struct{ s, n string }
	idx := map[key]int{}
	var out []Comparison
	for _, f := range a.Figures {
		k := key{f.Scenario, f.Name}
		if _, dup := idx[k]; dup {
			continue
		}
		idx[k] = len(out)
		out = append(out, Comparison{Scenario: f.Scenario, Name: f.Name, Unit: f.Unit, Better: f.Better, A: f.Value, HasA: true})
	}
	for _, f := range b.Figures {
		k := key{f.Scenario, f.Name}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, Comparison{Scenario: f.Scenario, Name: f.Name, Unit: f.Unit, Better: f.Better, B: f.Value, HasB: true})
			continue
		}
		if out[i].HasB {
			continue
		}
		out[i].B, out[i].HasB = f.Value, true
	}
	for i := range out {
		if c := &out[i]; c.HasA && c.HasB && c.A != 0 {
			c.Ratio = c.B / c.A
		}
	}
	return out
}

// WriteCompare prints two runs side by side with the ratio B/A.
func WriteCompare(w io.Writer, a, b *Run) error {
	fmt.Fprintf(w, "A: %s %s on %s (%s)\n", a.Server.Label, a.Server.Version, a.Machine.CPUModel, a.Started.Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "B: %s %s on %s (%s)\n", b.Server.Label, b.Server.Version, b.Machine.CPUModel, b.Started.Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tA\tB\tunit\tB/A\t")
	for _, c := range Compare(a, b) {
		av, bv, ratio := "-", "-", "-"
		if c.HasA {
			av = FormatValue(c.A)
		}
		if c.HasB {
			bv = FormatValue(c.B)
		}
		if c.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", c.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Scenario, c.Name, av, bv, c.Unit, ratio, c.verdict())
	}
	return tw.Flush()
}

// verdict says which run did better on the figure, when the figure says
// which way is better and the two differ by more than 5%.
func (c Comparison) verdict() string {
	if c.Ratio == 0 || (c.Ratio > 0.95 && c.Ratio < 1.05) {
		return ""
	}
	switch {
	case c.Better == "lower" && c.Ratio < 1, c.Better == "higher" && c.Ratio > 1:
		return "B better"
	case c.Better == "lower", c.Better == "higher":
		return "A better"
	}
	return ""
}
