package profile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The hand-built profile most tests use. Stacks, root first:
//
//	{main} → A::run → db_query (line 5)   ×3
//	{main} → A::run → db_query (line 7)   ×1
//	{main} → A::run → render              ×2
//	{main} → B::helper                    ×1
//	{main}                                ×1
var (
	frMain   = Frame{Function: "{main}", File: "/www/index.php", Line: 3}
	frRun    = Frame{Function: "run", Class: "A", File: "/www/A.php", Line: 10}
	frQuery  = Frame{Function: "db_query", File: "/www/db.php", Line: 5}
	frQuery7 = Frame{Function: "db_query", File: "/www/db.php", Line: 7}
	frRender = Frame{Function: "render", File: "/www/view.php", Line: 1}
	frHelper = Frame{Function: "helper", Class: "B", File: "/www/B.php", Line: 2}
)

const testPeriod = int64(10_101_010) // 99 Hz

var testLabels = Labels{Service: "php-fpm", Pool: "www", Endpoint: "GET /wp-admin/"}

func handSamples(at time.Time) []Sample {
	mk := func(n int, stack ...Frame) []Sample {
		var out []Sample
		for range n {
			out = append(out, Sample{Time: at, Service: testLabels.Service, Pool: testLabels.Pool,
				Endpoint: testLabels.Endpoint, Stack: stack, Count: 1, PeriodNs: testPeriod})
		}
		return out
	}
	var all []Sample
	all = append(all, mk(3, frMain, frRun, frQuery)...)
	all = append(all, mk(1, frMain, frRun, frQuery7)...)
	all = append(all, mk(2, frMain, frRun, frRender)...)
	all = append(all, mk(1, frMain, frHelper)...)
	all = append(all, mk(1, frMain)...)
	return all
}

func handProfile() *Profile {
	p := NewProfile(0)
	for _, s := range handSamples(time.Time{}) {
		p.PeriodNs = s.PeriodNs
		p.Add(s.Stack, testLabels, s.Count)
	}
	return p
}

// canonical is a profile as "labels|frame;frame;…" → count, comparable
// whatever the interning order.
func canonical(p *Profile) map[string]int64 {
	out := map[string]int64{}
	for _, s := range p.Stacks {
		l := p.Labels[s.Label]
		parts := []string{}
		for _, id := range s.Frames {
			f := p.Frames[id]
			parts = append(parts, fmt.Sprintf("%s@%s:%d", f.Name(), f.File, f.Line))
		}
		out[l.Service+"/"+l.Pool+"/"+l.Endpoint+"|"+strings.Join(parts, ";")] += s.Count
	}
	return out
}

// randomProfile builds a profile with a realistic shape: a few roots, a
// shared vocabulary of functions, stacks 1..30 deep.
func randomProfile(r *rand.Rand, samples, maxStacks int) *Profile {
	p := NewProfile(maxStacks)
	p.PeriodNs = testPeriod
	fns := make([]Frame, 200)
	for i := range fns {
		fns[i] = Frame{Function: fmt.Sprintf("f%d", i), File: fmt.Sprintf("/www/src/F%d.php", i%37), Line: r.IntN(500)}
		if i%3 == 0 {
			fns[i].Class = fmt.Sprintf("App\\C%d", i%11)
		}
	}
	roots := []Frame{frMain, {Function: "[php-fpm]"}, {Function: "{main}", File: "/www/wp-cron.php"}}
	for range samples {
		stack := []Frame{roots[r.IntN(len(roots))]}
		for range r.IntN(30) {
			stack = append(stack, fns[r.IntN(len(fns))])
		}
		l := Labels{Service: "php-fpm", Pool: []string{"www", "api", ""}[r.IntN(3)], Endpoint: fmt.Sprintf("GET /p%d", r.IntN(4))}
		p.Add(stack, l, 1+r.Int64N(3))
	}
	return p
}
