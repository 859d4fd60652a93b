package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/tusk-php/tusk/pkg/trace"
)

// wordpressStatement is one statement of a WordPress page as the
// assembler describes it: the facts and stack it shares page after page
// (its SQL facts cache and per-process stack cache hand out the same
// strings), and the text, which BPF copies anew for every call.
type wordpressStatement struct {
	text             string // a format with one %d
	shape, op, table string
	site, file       string
	line             int64
	stack            string
}

// wordpressSite is the shared part of wordpressTraces: what the agent
// keeps from page to page.
type wordpressSite struct {
	statements []wordpressStatement
	loop       int // the N+1 loop's statement
}

func newWordpressSite(r *rand.Rand) *wordpressSite {
	functions := []string{
		"wpdb::query", "wpdb::get_results", "wpdb::get_row", "wpdb::get_var", "wpdb::get_col",
		"WP_Query::get_posts", "WP_Query::query", "get_option", "wp_load_alloptions", "update_meta_cache",
		"get_post_meta", "WP_Term_Query::get_terms", "wp_get_object_terms", "get_the_terms",
		"_prime_post_caches", "WP_Widget_Recent_Comments::widget", "wp_nav_menu", "wp_get_nav_menu_items",
		"require_once", "include wp-load.php", "{main}", "apply_filters", "WP_Hook::apply_filters", "do_action",
	}
	files := []string{
		"/var/www/html/wp-includes/class-wpdb.php", "/var/www/html/wp-includes/class-wp-query.php",
		"/var/www/html/wp-includes/option.php", "/var/www/html/wp-includes/meta.php",
		"/var/www/html/wp-includes/class-wp-term-query.php", "/var/www/html/wp-includes/taxonomy.php",
		"/var/www/html/wp-includes/post.php", "/var/www/html/wp-includes/nav-menu-template.php",
		"/var/www/html/wp-includes/class-wp-hook.php", "/var/www/html/wp-includes/plugin.php",
		"/var/www/html/wp-content/themes/twentytwentyfour/functions.php", "/var/www/html/index.php",
		"/var/www/html/wp-blog-header.php", "/var/www/html/wp-includes/template-loader.php",
	}
	stack := func() (string, string, string, int64) {
		var b strings.Builder
		var site, file string
		var line int64
		for i := range 8 { // the walker's frames, innermost first
			if i > 0 {
				b.WriteByte('\n')
			}
			fn, f, l := functions[r.IntN(len(functions))], files[r.IntN(len(files))], int64(20+r.IntN(4000))
			if i == 1 {
				site, file, line = fn, f, l
			}
			fmt.Fprintf(&b, "%s (%s:%d)", fn, f, l)
		}
		return b.String(), site, file, line
	}
	in := func(n int, f string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(f, i+r.IntN(50))
		}
		return strings.Join(parts, ", ")
	}
	options := make([]string, 60)
	for i := range options {
		options[i] = fmt.Sprintf("'widget_block_%d_settings'", i)
	}
	texts := []struct{ text, op, table string }{
		{"SELECT option_name, option_value FROM wp_options WHERE autoload IN ('yes', 'on', 'auto-on', 'auto') /* %d */", "SELECT", "wp_options"},
		{"SELECT option_value FROM wp_options WHERE option_name = 'can_compress_scripts_%d' LIMIT 1", "SELECT", "wp_options"},
		{"SELECT option_name, option_value FROM wp_options WHERE option_name IN (" + strings.Join(options, ",") + ") AND 1 = %d", "SELECT", "wp_options"},
		{"SELECT wp_posts.ID FROM wp_posts WHERE 1=1 AND wp_posts.post_type = 'post' AND ((wp_posts.post_status = 'publish')) ORDER BY wp_posts.post_date DESC LIMIT 0, %d", "SELECT", "wp_posts"},
		{"SELECT SQL_CALC_FOUND_ROWS wp_posts.ID FROM wp_posts LEFT JOIN wp_term_relationships ON (wp_posts.ID = wp_term_relationships.object_id) WHERE 1=1 AND ( wp_term_relationships.term_taxonomy_id IN (" + in(40, "%d") + ") ) AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish' OR wp_posts.post_status = 'private'))) GROUP BY wp_posts.ID ORDER BY wp_posts.post_date DESC LIMIT 0, %d", "SELECT", "wp_posts"},
		{"SELECT wp_posts.* FROM wp_posts WHERE ID IN (" + in(10, "%d") + ",%d)", "SELECT", "wp_posts"},
		{"SELECT t.*, tt.*, tr.object_id FROM wp_terms AS t INNER JOIN wp_term_taxonomy AS tt ON t.term_id = tt.term_id INNER JOIN wp_term_relationships AS tr ON tr.term_taxonomy_id = tt.term_taxonomy_id WHERE tt.taxonomy IN ('category', 'post_tag', 'post_format') AND tr.object_id IN (" + in(120, "%d") + ", %d) ORDER BY t.name ASC", "SELECT", "wp_terms"},
		{"SELECT post_id, meta_key, meta_value FROM wp_postmeta WHERE post_id IN (%d) ORDER BY meta_id ASC", "SELECT", "wp_postmeta"},
		{"SELECT user_id, meta_key, meta_value FROM wp_usermeta WHERE user_id IN (%d) ORDER BY umeta_id ASC", "SELECT", "wp_usermeta"},
		{"SELECT * FROM wp_users WHERE ID = '%d' LIMIT 1", "SELECT", "wp_users"},
		{"SELECT wp_comments.comment_ID FROM wp_comments JOIN wp_posts ON wp_posts.ID = wp_comments.comment_post_ID WHERE ( comment_approved = '1' ) AND wp_posts.post_status IN ('publish') AND comment_type != 'note' ORDER BY wp_comments.comment_date_gmt DESC LIMIT 0,%d", "SELECT", "wp_comments"},
		{"SELECT t.term_id FROM wp_terms AS t INNER JOIN wp_term_taxonomy AS tt ON t.term_id = tt.term_id WHERE tt.taxonomy IN ('nav_menu') AND t.term_id = %d", "SELECT", "wp_terms"},
		{"SELECT YEAR(post_date) AS `year`, MONTH(post_date) AS `month`, count(ID) as posts FROM wp_posts WHERE post_type = 'post' AND post_status = 'publish' GROUP BY YEAR(post_date), MONTH(post_date) ORDER BY post_date DESC LIMIT %d", "SELECT", "wp_posts"},
		{"UPDATE `wp_options` SET `option_value` = '%d' WHERE `option_name` = '_transient_doing_cron'", "UPDATE", "wp_options"},
		{"SELECT * FROM wp_posts WHERE ID = %d LIMIT 1", "SELECT", "wp_posts"},
		{"SELECT autoload FROM wp_options WHERE option_name = 'theme_mods_twentytwentyfour' AND %d = 1", "SELECT", "wp_options"},
	}
	s := &wordpressSite{loop: 7}
	for _, t := range texts {
		st := wordpressStatement{text: t.text, op: t.op, table: t.table,
			shape: strings.ReplaceAll(strings.ReplaceAll(t.text, "%d", "?"), "'", "")}
		st.stack, st.site, st.file, st.line = stack()
		s.statements = append(s.statements, st)
	}
	return s
}

// wordpressTraces returns n WordPress front pages as the agent's assembler
// builds them in always-on mode: a request span with ~15 attributes and 34
// SQL client spans with 13-14 (code.*, a stack, db.*, the statement, 100
// to 1500 bytes, and its repeat facts), an N+1 loop of 10 in most. The
// strings the agent shares between pages (keys, stacks, statement facts,
// the connection's) are shared here; statements and span names are new
// strings per span, as in the agent. Deterministic for a seed.
func wordpressTraces(seed uint64, n int) []*trace.Trace {
	r := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	site := newWordpressSite(r)
	id := func() (id trace.SpanID) {
		binary.LittleEndian.PutUint64(id[:], r.Uint64()|1)
		return id
	}
	paths := []string{"/", "/", "/", "/2026/03/hello-world/", "/category/news/", "/page/2/", "/?s=php", "/feed/"}
	// A front page's statements in order; the loop statement runs 10 times
	// in place of its single run on most pages.
	order := []int{0, 1, 2, 15, 9, 8, 3, 5, 6, 7, 7, 14, 10, 11, 4, 12, 13, 2, 1, 11, 6, 14, 9, 8, 15}
	traces := make([]*trace.Trace, n)
	start := int64(1_800_000_000_000_000_000)
	for i := range traces {
		start += 16_000_000 + r.Int64N(8_000_000)
		path := paths[r.IntN(len(paths))]
		root := trace.Span{
			SpanID: id(), Name: "GET " + path, Kind: trace.KindServer,
			StartUnixNano: start, DurationNano: 40_000_000 + r.Int64N(80_000_000),
			Status:     trace.Status{Code: trace.StatusUnset},
			Attributes: trace.Attributes{},
		}
		root.SetAttr(trace.AttrProcessPID, int64(2000+r.IntN(40)))
		root.SetAttr(trace.AttrThreadID, root.Attributes[trace.AttrProcessPID])
		root.SetAttr(trace.AttrHostName, "web-1")
		root.SetAttr(trace.AttrHTTPMethod, "GET")
		root.SetAttr(trace.AttrURLPath, path)
		root.SetAttr(trace.AttrServerAddress, "blog.example.com")
		root.SetAttr(trace.AttrPHPScript, "/var/www/html/index.php")
		root.SetAttr(trace.AttrPHPPool, "www")
		root.SetAttr(trace.AttrPHPVersion, "8.3.12")
		root.SetAttr(trace.AttrPHPProbeMode, "usdt")
		root.SetAttr(trace.AttrServiceName, "blog")
		root.SetAttr(trace.AttrHTTPStatusCode, int64(200))
		spans := make([]trace.Span, 1, 40)
		loop := r.IntN(4) != 0
		var calls []int
		for _, st := range order {
			if st == site.loop && loop {
				for range 10 {
					calls = append(calls, st)
				}
				loop = false
				continue
			}
			calls = append(calls, st)
		}
		calls = calls[:min(len(calls), 34)]
		repeats := map[int]int64{}
		for _, st := range calls {
			repeats[st]++
		}
		at := start + 2_000_000
		for _, k := range calls {
			st := &site.statements[k]
			s := trace.Span{
				SpanID: id(), ParentSpanID: root.SpanID, Kind: trace.KindClient,
				Name: st.op + " " + st.table, StartUnixNano: at, DurationNano: 80_000 + r.Int64N(900_000),
				Status:     trace.Status{Code: trace.StatusUnset},
				Attributes: make(trace.Attributes, 14),
			}
			at += s.DurationNano + r.Int64N(500_000)
			s.SetAttr(trace.AttrCodeFunction, st.site)
			s.SetAttr(trace.AttrCodeFilePath, st.file)
			s.SetAttr(trace.AttrCodeLineNumber, st.line)
			s.SetAttr(trace.AttrCodeStacktrace, st.stack)
			s.SetAttr(trace.AttrDBSystem, "mysql")
			s.SetAttr(trace.AttrDBNamespace, "wordpress")
			s.SetAttr(trace.AttrServerAddress, "db.internal")
			s.SetAttr(trace.AttrServerPort, int64(3306))
			s.SetAttr(trace.AttrDBQueryText, fmt.Sprintf(st.text, 1+r.IntN(3000)))
			s.SetAttr(trace.AttrDBOperation, st.op)
			s.SetAttr(trace.AttrDBCollection, st.table)
			s.SetAttr(trace.AttrQueryShape, st.shape)
			s.SetAttr(trace.AttrRepeatCount, repeats[k])
			if repeats[k] >= 5 {
				s.SetAttr(trace.AttrNPlusOne, true)
			}
			spans = append(spans, s)
		}
		if repeats[site.loop] >= 5 {
			st := &site.statements[site.loop]
			root.SetAttr(trace.AttrNPlusOneGroups, int64(1))
			root.SetAttr(trace.AttrNPlusOneQuery, st.shape)
			root.SetAttr(trace.AttrNPlusOneCount, repeats[site.loop])
			root.SetAttr(trace.AttrNPlusOneSite, st.site)
		}
		spans[0] = root
		traces[i] = &trace.Trace{Summary: trace.Summary{
			Service: "blog", Pool: "www", Host: "web-1", Method: "GET", Path: path, StatusCode: 200,
			StartUnixNano: root.StartUnixNano, DurationNano: root.DurationNano, SpanCount: len(spans),
		}, Spans: spans}
	}
	return traces
}
