package main

import (
	"fmt"
	"math"
)

// pairedRatio is a variant's cost against the control as a ratio with a
// 95% confidence interval, from the rounds: every round runs the control
// and the variant back to back (roundOrder), so each round gives one ratio
// taken under the same machine conditions, and what drifts between rounds
// (other tenants of the host, its clock) cancels out of it. The ratios are
// averaged as logs (a geometric mean: 0.9 and 1/0.9 average to 1), and the
// interval is Student's t over those logs. Medians of each side, the
// bench's other figures, cannot say how far a 3% goal is from the noise;
// this can.
type pairedRatio struct {
	mean, lo, hi float64
	n            int
}

// pairRatios is the paired ratio variant[i]/control[i] over the rounds
// both have; a round where either is not positive is left out.
func pairRatios(variant, control []float64) pairedRatio {
	var ratios []float64
	for i := range min(len(variant), len(control)) {
		if variant[i] > 0 && control[i] > 0 {
			ratios = append(ratios, variant[i]/control[i])
		}
	}
	return meanRatio(ratios)
}

// meanRatio is the geometric mean of ratios, one per round, with its 95%
// interval; ratios that are not positive are left out.
func meanRatio(ratios []float64) pairedRatio {
	var logs []float64
	for _, r := range ratios {
		if r > 0 {
			logs = append(logs, math.Log(r))
		}
	}
	n := len(logs)
	if n == 0 {
		return pairedRatio{}
	}
	var sum float64
	for _, l := range logs {
		sum += l
	}
	mean := sum / float64(n)
	if n == 1 {
		return pairedRatio{mean: math.Exp(mean), lo: math.Inf(-1), hi: math.Inf(1), n: 1}
	}
	var ss float64
	for _, l := range logs {
		ss += (l - mean) * (l - mean)
	}
	half := tQuantile975(n-1) * math.Sqrt(ss/float64(n-1)/float64(n))
	return pairedRatio{mean: math.Exp(mean), lo: math.Exp(mean - half), hi: math.Exp(mean + half), n: n}
}

// inverse is 1/p: a cost ratio as a throughput ratio.
func (p pairedRatio) inverse() pairedRatio {
	if p.n == 0 {
		return p
	}
	return pairedRatio{mean: 1 / p.mean, lo: 1 / p.hi, hi: 1 / p.lo, n: p.n}
}

func (p pairedRatio) String() string {
	if p.n == 0 {
		return "—"
	}
	if p.n == 1 {
		return fmt.Sprintf("%.3f (1 round)", p.mean)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", p.mean, p.lo, p.hi)
}

// percent prints a latency ratio as a change: +3.1% [+1.0%, +5.2%].
func (p pairedRatio) percent() string {
	if p.n < 2 {
		return "—"
	}
	return fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", 100*(p.mean-1), 100*(p.lo-1), 100*(p.hi-1))
}

// atLeast says whether the interval shows the ratio is at least goal:
// "met" when all of it is, "MISSED" when none of it is, and "not shown"
// when the interval straddles the goal (more rounds, or a quieter
// machine, would decide).
func (p pairedRatio) atLeast(goal float64) string {
	switch {
	case p.n < 2:
		return "not shown (one round)"
	case p.lo >= goal:
		return "met"
	case p.hi < goal:
		return "MISSED"
	}
	return "not shown (the interval holds the goal)"
}

// atMost is atLeast for a ratio that must stay at or under goal.
func (p pairedRatio) atMost(goal float64) string {
	switch {
	case p.n < 2:
		return "not shown (one round)"
	case p.hi <= goal:
		return "met"
	case p.lo > goal:
		return "MISSED"
	}
	return "not shown (the interval holds the goal)"
}

// tQuantile975 is Student's t distribution's 97.5th percentile for df
// degrees of freedom: a two-sided 95% interval.
func tQuantile975(df int) float64 {
	table := []float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}
	switch {
	case df < 1:
		return math.Inf(1)
	case df < len(table):
		return table[df]
	case df < 60:
		return 2.00
	}
	return 1.96
}
