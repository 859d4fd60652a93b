package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tusk-php/tusk/pkg/trace"
)

// The generator builds traces shaped like the agent's always-on output (see
// pkg/assemble): one server span per PHP request with the attributes the
// agent sets, and client spans for the SQL, Redis and HTTP calls the I/O
// hooks saw, each with its call site (code.function.name, code.file.path,
// code.line.number) and PHP stack (code.stacktrace). Repeated statements
// from one call site are flagged as N+1 the way the assembler does it.

// endpoint is one route of an app. Paths carry ids ({id}) and slugs ({slug}),
// so the store sees many distinct paths per route, as it does in production.
type endpoint struct {
	method   string
	path     string  // template
	weight   int     // relative traffic
	medianMs float64 // median duration
	sql      int     // typical SQL statements per request
	cache    int     // typical Redis calls
	http     float64 // probability of an outgoing HTTP call
	nPlusOne float64 // probability of an N+1 loop
	table    string  // main table queried
}

type app struct {
	service, pool string
	hosts         []string
	root          string // document root
	phpVersion    string
	db            string // db.namespace
	endpoints     []endpoint
	frames        []frame  // call-stack material
	statements    []string // SQL templates: %d is an id, %s a slug or word
	totalWeight   int
}

type frame struct {
	class, function, file string
}

var apps = []*app{
	{
		service: "blog", pool: "wordpress", hosts: []string{"web-1", "web-2"},
		root: "/var/www/wordpress", phpVersion: "8.2.26", db: "wordpress",
		endpoints: []endpoint{
			{"GET", "/", 30, 45, 25, 0, 0.02, 0.05, "wp_posts"},
			{"GET", "/{year}/{month}/{slug}/", 25, 60, 35, 0, 0.02, 0.15, "wp_posts"},
			{"GET", "/category/{slug}/", 6, 55, 30, 0, 0, 0.10, "wp_terms"},
			{"GET", "/tag/{slug}/", 3, 50, 28, 0, 0, 0.10, "wp_terms"},
			{"GET", "/author/{slug}/", 2, 50, 26, 0, 0, 0.05, "wp_users"},
			{"GET", "/page/{n}/", 4, 48, 25, 0, 0, 0.05, "wp_posts"},
			{"GET", "/wp-json/wp/v2/posts/{id}", 6, 35, 12, 0, 0, 0.05, "wp_posts"},
			{"GET", "/wp-json/wp/v2/posts", 3, 70, 20, 0, 0, 0.20, "wp_posts"},
			{"POST", "/wp-admin/admin-ajax.php", 8, 120, 15, 0, 0.05, 0.02, "wp_options"},
			{"GET", "/wp-admin/", 2, 250, 60, 0, 0.30, 0.10, "wp_options"},
			{"GET", "/wp-admin/edit.php", 1, 300, 55, 0, 0.10, 0.25, "wp_posts"},
			{"POST", "/wp-admin/post.php", 1, 400, 45, 0, 0.20, 0.05, "wp_postmeta"},
			{"POST", "/wp-comments-post.php", 1, 180, 18, 0, 0.50, 0, "wp_comments"},
			{"GET", "/feed/", 2, 90, 12, 0, 0, 0, "wp_posts"},
			{"POST", "/wp-cron.php", 2, 600, 20, 0, 0.60, 0, "wp_options"},
			{"GET", "/?s={slug}", 1, 220, 14, 0, 0, 0, "wp_posts"},
		},
		frames: []frame{
			{"", "require", "/var/www/wordpress/index.php"},
			{"", "require_once", "/var/www/wordpress/wp-blog-header.php"},
			{"", "wp", "/var/www/wordpress/wp-includes/functions.php"},
			{"WP", "main", "/var/www/wordpress/wp-includes/class-wp.php"},
			{"WP", "query_posts", "/var/www/wordpress/wp-includes/class-wp.php"},
			{"WP_Query", "query", "/var/www/wordpress/wp-includes/class-wp-query.php"},
			{"WP_Query", "get_posts", "/var/www/wordpress/wp-includes/class-wp-query.php"},
			{"", "get_post_meta", "/var/www/wordpress/wp-includes/post.php"},
			{"", "get_metadata_raw", "/var/www/wordpress/wp-includes/meta.php"},
			{"", "update_meta_cache", "/var/www/wordpress/wp-includes/meta.php"},
			{"", "get_option", "/var/www/wordpress/wp-includes/option.php"},
			{"", "do_action", "/var/www/wordpress/wp-includes/plugin.php"},
			{"WP_Hook", "apply_filters", "/var/www/wordpress/wp-includes/class-wp-hook.php"},
			{"WC_Product_Data_Store_CPT", "read", "/var/www/wordpress/wp-content/plugins/woocommerce/includes/data-stores/class-wc-product-data-store-cpt.php"},
			{"wpdb", "get_results", "/var/www/wordpress/wp-includes/class-wpdb.php"},
			{"wpdb", "query", "/var/www/wordpress/wp-includes/class-wpdb.php"},
			{"mysqli", "query", ""},
		},
		statements: []string{
			"SELECT SQL_CALC_FOUND_ROWS  wp_posts.ID FROM wp_posts  WHERE 1=1  AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish' OR wp_posts.post_status = 'private'))) ORDER BY wp_posts.post_date DESC LIMIT 0, %d",
			"SELECT wp_posts.* FROM wp_posts WHERE ID IN (%d,%d,%d,%d,%d,%d,%d,%d,%d,%d)",
			"SELECT post_id, meta_key, meta_value FROM wp_postmeta WHERE post_id IN (%d) ORDER BY meta_id ASC",
			"SELECT t.*, tt.*, tr.object_id FROM wp_terms AS t  INNER JOIN wp_term_taxonomy AS tt ON t.term_id = tt.term_id INNER JOIN wp_term_relationships AS tr ON tr.term_taxonomy_id = tt.term_taxonomy_id WHERE tt.taxonomy IN ('category', 'post_tag', 'post_format') AND tr.object_id IN (%d) ORDER BY t.name ASC",
			"SELECT option_value FROM wp_options WHERE option_name = '%s' LIMIT 1",
			"SELECT * FROM wp_users WHERE ID = '%d' LIMIT 1",
			"SELECT user_id, meta_key, meta_value FROM wp_usermeta WHERE user_id IN (%d) ORDER BY umeta_id ASC",
			"SELECT wp_comments.comment_ID FROM wp_comments  WHERE ( comment_approved = '1' ) AND comment_post_ID = %d AND comment_type != 'note'  ORDER BY wp_comments.comment_date_gmt ASC, wp_comments.comment_ID ASC",
			"UPDATE `wp_options` SET `option_value` = '%d' WHERE `option_name` = '_transient_doing_cron'",
		},
	},
	{
		service: "shop", pool: "shop-web", hosts: []string{"web-1", "web-2", "web-3"},
		root: "/var/www/shop", phpVersion: "8.3.14", db: "shop",
		endpoints: []endpoint{
			{"GET", "/", 15, 40, 8, 4, 0, 0.02, "products"},
			{"GET", "/products/{slug}", 30, 55, 10, 3, 0, 0.20, "products"},
			{"GET", "/categories/{slug}", 12, 80, 12, 3, 0, 0.30, "products"},
			{"GET", "/cart", 10, 35, 6, 2, 0, 0.05, "cart_items"},
			{"POST", "/cart/items", 6, 60, 8, 2, 0, 0.05, "cart_items"},
			{"DELETE", "/cart/items/{id}", 1, 40, 5, 2, 0, 0, "cart_items"},
			{"GET", "/checkout", 4, 110, 14, 3, 0.30, 0.05, "orders"},
			{"POST", "/checkout", 3, 450, 25, 3, 1.0, 0.05, "orders"},
			{"GET", "/account/orders", 3, 90, 10, 2, 0, 0.40, "orders"},
			{"GET", "/account/orders/{id}", 2, 60, 9, 2, 0, 0.10, "orders"},
			{"POST", "/login", 2, 180, 4, 2, 0, 0, "users"},
			{"GET", "/search", 6, 160, 6, 2, 0.80, 0, "products"},
			{"GET", "/up", 4, 2, 0, 0, 0, 0, ""},
		},
		frames: laravelFrames("/var/www/shop", []string{"ProductController", "CartController", "CheckoutController", "OrderController", "HomeController", "SearchController"}),
		statements: []string{
			"select * from `products` where `slug` = '%s' and `products`.`deleted_at` is null limit 1",
			"select `categories`.*, `category_product`.`product_id` as `pivot_product_id`, `category_product`.`category_id` as `pivot_category_id` from `categories` inner join `category_product` on `categories`.`id` = `category_product`.`category_id` where `category_product`.`product_id` in (%d, %d, %d, %d, %d, %d)",
			"select * from `product_images` where `product_images`.`product_id` = %d and `product_images`.`product_id` is not null order by `position` asc",
			"select * from `cart_items` where `cart_id` = %d",
			"insert into `cart_items` (`cart_id`, `product_id`, `quantity`, `updated_at`, `created_at`) values (%d, %d, %d, '2026-11-20 10:11:12', '2026-11-20 10:11:12')",
			"select * from `users` where `id` = %d limit 1",
			"select * from `orders` where `orders`.`user_id` = %d and `orders`.`user_id` is not null order by `created_at` desc limit 15 offset 0",
			"select count(*) as aggregate from `products` where exists (select * from `categories` inner join `category_product` on `categories`.`id` = `category_product`.`category_id` where `products`.`id` = `category_product`.`product_id` and `slug` = '%s')",
			"select * from `sessions` where `id` = '%s' limit 1",
			"update `sessions` set `payload` = 'YTo0OntzOjY6Il90b2tlbiI7czo0MDoi...', `last_activity` = %d where `id` = '%s'",
		},
	},
	{
		service: "shop", pool: "shop-api", hosts: []string{"api-1", "api-2"},
		root: "/var/www/shop", phpVersion: "8.3.14", db: "shop",
		endpoints: []endpoint{
			{"GET", "/api/v1/products", 20, 45, 6, 2, 0, 0.25, "products"},
			{"GET", "/api/v1/products/{id}", 30, 20, 4, 2, 0, 0.05, "products"},
			{"GET", "/api/v1/orders", 8, 70, 8, 1, 0, 0.35, "orders"},
			{"GET", "/api/v1/orders/{id}", 10, 30, 6, 1, 0, 0.05, "orders"},
			{"POST", "/api/v1/orders", 4, 250, 18, 2, 0.9, 0.02, "orders"},
			{"PATCH", "/api/v1/orders/{id}", 2, 90, 8, 1, 0.2, 0, "orders"},
			{"GET", "/api/v1/users/{id}", 5, 15, 3, 1, 0, 0, "users"},
			{"POST", "/api/v1/webhooks/stripe", 2, 120, 8, 1, 0.5, 0, "payments"},
			{"GET", "/api/v1/inventory/{id}", 5, 12, 2, 2, 0, 0, "stock"},
			{"GET", "/api/health", 4, 1, 0, 0, 0, 0, ""},
		},
		frames: laravelFrames("/var/www/shop", []string{"Api\\ProductController", "Api\\OrderController", "Api\\UserController", "Api\\WebhookController", "Api\\InventoryController"}),
		statements: []string{
			"select * from `products` where `products`.`id` = %d and `products`.`deleted_at` is null limit 1",
			"select * from `products` where `products`.`deleted_at` is null order by `id` desc limit 51 offset %d",
			"select * from `orders` where `orders`.`id` = %d limit 1",
			"select * from `order_lines` where `order_lines`.`order_id` = %d and `order_lines`.`order_id` is not null",
			"select * from `stock_levels` where `product_id` = %d and `warehouse_id` in (%d, %d, %d)",
			"insert into `orders` (`user_id`, `status`, `total_cents`, `currency`, `updated_at`, `created_at`) values (%d, 'pending', %d, 'EUR', '2026-11-20 10:11:12', '2026-11-20 10:11:12')",
			"select * from `personal_access_tokens` where `token` = '%s' limit 1",
			"update `personal_access_tokens` set `last_used_at` = '2026-11-20 10:11:12', `personal_access_tokens`.`updated_at` = '2026-11-20 10:11:12' where `id` = %d",
		},
	},
	{
		service: "crm", pool: "crm", hosts: []string{"app-1"},
		root: "/srv/crm", phpVersion: "8.1.31", db: "crm",
		endpoints: []endpoint{
			{"GET", "/dashboard", 15, 180, 30, 2, 0.1, 0.30, "activities"},
			{"GET", "/contacts", 15, 120, 15, 1, 0, 0.40, "contacts"},
			{"GET", "/contacts/{id}", 20, 70, 12, 1, 0, 0.15, "contacts"},
			{"POST", "/contacts/{id}/notes", 5, 90, 6, 1, 0, 0, "notes"},
			{"GET", "/companies/{id}", 10, 95, 14, 1, 0, 0.25, "companies"},
			{"GET", "/deals", 8, 150, 18, 1, 0, 0.35, "deals"},
			{"PUT", "/deals/{id}", 4, 110, 9, 1, 0.3, 0, "deals"},
			{"GET", "/reports/pipeline", 2, 1400, 40, 0, 0, 0.10, "deals"},
			{"POST", "/import/csv", 1, 3500, 50, 0, 0, 0.60, "contacts"},
			{"GET", "/_profiler/wdt/{hex}", 3, 8, 0, 0, 0, 0, ""},
			{"POST", "/api/sync/{id}", 5, 300, 10, 0, 1.0, 0.05, "contacts"},
		},
		frames: []frame{
			{"", "require", "/srv/crm/public/index.php"},
			{"Symfony\\Component\\HttpKernel\\Kernel", "handle", "/srv/crm/vendor/symfony/http-kernel/Kernel.php"},
			{"Symfony\\Component\\HttpKernel\\HttpKernel", "handleRaw", "/srv/crm/vendor/symfony/http-kernel/HttpKernel.php"},
			{"App\\Controller\\ContactController", "show", "/srv/crm/src/Controller/ContactController.php"},
			{"App\\Controller\\DealController", "index", "/srv/crm/src/Controller/DealController.php"},
			{"App\\Service\\PipelineReport", "build", "/srv/crm/src/Service/PipelineReport.php"},
			{"App\\Repository\\ContactRepository", "findWithCompany", "/srv/crm/src/Repository/ContactRepository.php"},
			{"Doctrine\\ORM\\UnitOfWork", "createEntity", "/srv/crm/vendor/doctrine/orm/src/UnitOfWork.php"},
			{"Doctrine\\ORM\\Persisters\\Entity\\BasicEntityPersister", "load", "/srv/crm/vendor/doctrine/orm/src/Persisters/Entity/BasicEntityPersister.php"},
			{"Doctrine\\DBAL\\Connection", "executeQuery", "/srv/crm/vendor/doctrine/dbal/src/Connection.php"},
			{"Doctrine\\DBAL\\Driver\\PDO\\Statement", "execute", "/srv/crm/vendor/doctrine/dbal/src/Driver/PDO/Statement.php"},
			{"PDOStatement", "execute", ""},
		},
		statements: []string{
			"SELECT t0.id AS id_1, t0.first_name AS first_name_2, t0.last_name AS last_name_3, t0.email AS email_4, t0.phone AS phone_5, t0.created_at AS created_at_6, t0.company_id AS company_id_7, t0.owner_id AS owner_id_8 FROM contact t0 WHERE t0.id = %d",
			"SELECT t0.id AS id_1, t0.name AS name_2, t0.domain AS domain_3, t0.industry AS industry_4 FROM company t0 WHERE t0.id = %d",
			"SELECT n0_.id AS id_0, n0_.body AS body_1, n0_.created_at AS created_at_2 FROM note n0_ WHERE n0_.contact_id = %d ORDER BY n0_.created_at DESC LIMIT 20",
			"SELECT d0_.id AS id_0, d0_.title AS title_1, d0_.amount AS amount_2, d0_.stage AS stage_3, d0_.closes_at AS closes_at_4 FROM deal d0_ WHERE d0_.owner_id = %d AND d0_.stage <> 'lost' ORDER BY d0_.closes_at ASC",
			"SELECT COUNT(*) AS sclr_0, SUM(d0_.amount) AS sclr_1, d0_.stage AS stage_2 FROM deal d0_ WHERE d0_.closes_at BETWEEN '2026-10-01' AND '2026-12-31' GROUP BY d0_.stage",
			"INSERT INTO note (body, created_at, contact_id, author_id) VALUES ('%s', '2026-11-20 10:11:12', %d, %d)",
			"UPDATE deal SET stage = 'negotiation', updated_at = '2026-11-20 10:11:12' WHERE id = %d",
		},
	},
}

func laravelFrames(root string, controllers []string) []frame {
	f := []frame{
		{"", "require_once", root + "/public/index.php"},
		{"Illuminate\\Foundation\\Http\\Kernel", "handle", root + "/vendor/laravel/framework/src/Illuminate/Foundation/Http/Kernel.php"},
		{"Illuminate\\Pipeline\\Pipeline", "then", root + "/vendor/laravel/framework/src/Illuminate/Pipeline/Pipeline.php"},
		{"Illuminate\\Routing\\Router", "dispatch", root + "/vendor/laravel/framework/src/Illuminate/Routing/Router.php"},
		{"Illuminate\\Routing\\ControllerDispatcher", "dispatch", root + "/vendor/laravel/framework/src/Illuminate/Routing/ControllerDispatcher.php"},
	}
	for _, c := range controllers {
		f = append(f, frame{"App\\Http\\Controllers\\" + c, "show", root + "/app/Http/Controllers/" + strings.ReplaceAll(c, "\\", "/") + ".php"})
	}
	return append(f,
		frame{"App\\Models\\Product", "getPriceAttribute", root + "/app/Models/Product.php"},
		frame{"Illuminate\\Database\\Eloquent\\Builder", "get", root + "/vendor/laravel/framework/src/Illuminate/Database/Eloquent/Builder.php"},
		frame{"Illuminate\\Database\\Query\\Builder", "get", root + "/vendor/laravel/framework/src/Illuminate/Database/Query/Builder.php"},
		frame{"Illuminate\\Database\\Connection", "select", root + "/vendor/laravel/framework/src/Illuminate/Database/Connection.php"},
		frame{"PDOStatement", "execute", ""},
	)
}

var (
	words = []string{"hello-world", "summer-sale", "blue-widget", "red-shoes", "php-tips", "laravel-queues", "symfony-forms",
		"opcache-tuning", "black-friday", "gift-card", "news", "release-notes", "about-us", "contact", "faq", "shipping"}
	externalURLs = []string{
		"https://api.stripe.com/v1/payment_intents", "https://api.mailgun.net/v3/mg.example.com/messages",
		"https://search.internal:9200/products/_search", "https://api.wordpress.org/core/version-check/1.7/",
		"https://hooks.slack.com/services/T000/B000/XXXX", "https://geo.internal/v1/lookup",
	}
	exceptions = []struct{ typ, msg string }{
		{"PDOException", "SQLSTATE[HY000] [2002] Connection refused"},
		{"Illuminate\\Database\\QueryException", "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction"},
		{"GuzzleHttp\\Exception\\ConnectException", "cURL error 28: Operation timed out after 5001 milliseconds with 0 bytes received"},
		{"RedisException", "read error on connection to redis:6379"},
		{"Symfony\\Component\\HttpKernel\\Exception\\NotFoundHttpException", "No route found"},
		{"Error", "Call to a member function getId() on null"},
	}
)

func init() {
	for _, a := range apps {
		for _, e := range a.endpoints {
			a.totalWeight += e.weight
		}
	}
}

// appWeights: WordPress and the shop's web pool get most traffic.
var appWeights = []int{35, 30, 25, 10}

type generator struct {
	rng   *rand.Rand
	begin time.Time
	step  float64 // ns between traces
	i     int
}

// newGenerator spreads n traces evenly over [end-spread, end), oldest first.
func newGenerator(seed uint64, n int, end time.Time, spread time.Duration) *generator {
	return &generator{
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		begin: end.Add(-spread),
		step:  float64(spread) / float64(n),
	}
}

func (g *generator) traceID() (id trace.TraceID) {
	binary.LittleEndian.PutUint64(id[:8], g.rng.Uint64()|1)
	binary.LittleEndian.PutUint64(id[8:], g.rng.Uint64())
	return id
}

func (g *generator) spanID() (id trace.SpanID) {
	binary.LittleEndian.PutUint64(id[:], g.rng.Uint64()|1)
	return id
}

func (g *generator) pickApp() *app {
	r := g.rng.IntN(100)
	for i, w := range appWeights {
		if r < w {
			return apps[i]
		}
		r -= w
	}
	return apps[0]
}

func (g *generator) pickEndpoint(a *app) *endpoint {
	r := g.rng.IntN(a.totalWeight)
	for i := range a.endpoints {
		if r < a.endpoints[i].weight {
			return &a.endpoints[i]
		}
		r -= a.endpoints[i].weight
	}
	return &a.endpoints[0]
}

func (g *generator) fillPath(tmpl string) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	r := g.rng
	rep := strings.NewReplacer(
		"{id}", strconv.Itoa(1+r.IntN(50000)),
		"{slug}", words[r.IntN(len(words))]+"-"+strconv.Itoa(r.IntN(500)),
		"{year}", strconv.Itoa(2019+r.IntN(8)),
		"{month}", fmt.Sprintf("%02d", 1+r.IntN(12)),
		"{n}", strconv.Itoa(2+r.IntN(40)),
		"{hex}", fmt.Sprintf("%06x", r.IntN(1<<24)),
	)
	return rep.Replace(tmpl)
}

func (g *generator) status() int {
	r := g.rng.IntN(1000)
	switch {
	case r < 900:
		return 200
	case r < 925:
		return 201
	case r < 935:
		return 204
	case r < 950:
		return 302 // counted with the 2xx/3xx "fine" 95%
	case r < 968:
		return 404
	case r < 974:
		return 403
	case r < 980:
		return 422
	case r < 990:
		return 500
	case r < 995:
		return 502
	default:
		return 503
	}
}

// lognormal returns a duration with the given median, clamped to [200µs, 30s].
func (g *generator) lognormal(medianMs, sigma float64) int64 {
	ms := medianMs * math.Exp(sigma*g.rng.NormFloat64())
	ns := int64(ms * 1e6)
	return min(max(ns, 200_000), int64(30*time.Second))
}

// stack returns a PHP stack of 5-14 frames ending in leaf, innermost first,
// and the call site (the innermost user frame).
func (g *generator) stack(a *app) (text string, site frame, line int) {
	r := g.rng
	n := 5 + r.IntN(10)
	var b strings.Builder
	b.Grow(n * 90)
	for i := range n {
		var f frame
		if i == 0 {
			f = a.frames[len(a.frames)-1]
		} else {
			f = a.frames[r.IntN(len(a.frames)-1)]
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		name := f.function
		if f.class != "" {
			name = f.class + "::" + f.function
		}
		if f.file == "" {
			b.WriteString(name)
			continue
		}
		ln := 10 + r.IntN(900)
		if site.file == "" {
			site, line = f, ln
		}
		fmt.Fprintf(&b, "%s (%s:%d)", name, f.file, ln)
	}
	return b.String(), site, line
}

func siteName(f frame) string {
	if f.class == "" {
		return f.function
	}
	return f.class + "::" + f.function
}

// statement returns a SQL text and its shape (literals as ?).
func (g *generator) statement(a *app) (text, shape string, op string) {
	r := g.rng
	tmpl := a.statements[r.IntN(len(a.statements))]
	var args []any
	for i := 0; i < len(tmpl)-1; i++ {
		if tmpl[i] != '%' {
			continue
		}
		switch tmpl[i+1] {
		case 'd':
			args = append(args, 1+r.IntN(100000))
		case 's':
			args = append(args, words[r.IntN(len(words))])
		}
	}
	text = fmt.Sprintf(tmpl, args...)
	shape = strings.NewReplacer("%d", "?", "'%s'", "?", "%s", "?").Replace(tmpl)
	op, _, _ = strings.Cut(strings.TrimSpace(tmpl), " ")
	return text, shape, strings.ToUpper(op)
}

// next returns the next trace; stats are counted by the caller.
func (g *generator) next() *trace.Trace {
	r := g.rng
	a := g.pickApp()
	ep := g.pickEndpoint(a)
	path := g.fillPath(ep.path)
	query := ""
	if p, q, ok := strings.Cut(path, "?"); ok {
		path, query = p, q
	}
	status := g.status()
	duration := g.lognormal(ep.medianMs, 0.9)
	if status >= 500 {
		duration = g.lognormal(ep.medianMs*3, 1.2) // timeouts and retries
	}
	start := g.begin.UnixNano() + int64(float64(g.i)*g.step) + r.Int64N(int64(g.step)+1)
	g.i++
	host := a.hosts[r.IntN(len(a.hosts))]

	t := &trace.Trace{Summary: trace.Summary{
		TraceID: g.traceID(), Service: a.service, Pool: a.pool, Host: host,
		Method: ep.method, Path: path, StatusCode: status,
		StartUnixNano: start, DurationNano: duration,
		Error: status >= 500, Incomplete: r.IntN(500) == 0,
	}}
	root := trace.Span{
		SpanID: g.spanID(), Name: ep.method + " " + path, Kind: trace.KindServer,
		StartUnixNano: start, DurationNano: duration,
		Status: trace.Status{Code: trace.StatusUnset},
		Attributes: trace.Attributes{
			trace.AttrHTTPMethod:     ep.method,
			trace.AttrHTTPStatusCode: int64(status),
			trace.AttrURLPath:        path,
			trace.AttrServerAddress:  a.service + ".example.com",
			trace.AttrServiceName:    a.service,
			trace.AttrHostName:       host,
			trace.AttrProcessPID:     int64(1000 + r.IntN(30000)),
			trace.AttrThreadID:       int64(1000 + r.IntN(30000)),
			trace.AttrPHPPool:        a.pool,
			trace.AttrPHPScript:      a.root + "/public/index.php",
			trace.AttrPHPVersion:     a.phpVersion,
			trace.AttrPHPProbeMode:   "usdt",
		},
	}
	if query != "" {
		root.SetAttr(trace.AttrURLQuery, query)
	}
	if t.Error {
		ex := exceptions[r.IntN(len(exceptions))]
		root.Status = trace.Status{Code: trace.StatusError, Message: "Uncaught " + ex.typ + ": " + ex.msg}
		root.Events = append(root.Events, trace.Event{
			Name: trace.EventException, TimeUnixNano: start + duration*9/10,
			Attributes: trace.Attributes{
				trace.AttrExceptionType: ex.typ, trace.AttrExceptionMessage: ex.msg, trace.AttrExceptionEscaped: true,
			},
		})
		root.SetAttr(trace.AttrPHPExceptions, int64(1))
	} else if r.IntN(100) == 0 { // caught and handled
		ex := exceptions[r.IntN(len(exceptions))]
		root.Events = append(root.Events, trace.Event{
			Name: trace.EventException, TimeUnixNano: start + duration/3,
			Attributes: trace.Attributes{trace.AttrExceptionType: ex.typ, trace.AttrExceptionMessage: ex.msg},
		})
		root.SetAttr(trace.AttrPHPExceptions, int64(1))
	}

	// Client spans: SQL, cache, HTTP, and maybe an N+1 loop; at most 59.
	nSQL := 0
	if ep.sql > 0 {
		nSQL = ep.sql/2 + r.IntN(ep.sql+1)
	}
	nCache := 0
	if ep.cache > 0 {
		nCache = r.IntN(2*ep.cache + 1)
	}
	nHTTP := 0
	if r.Float64() < ep.http {
		nHTTP = 1 + r.IntN(2)
	}
	nLoop := 0
	if r.Float64() < ep.nPlusOne {
		nLoop = 10 + r.IntN(25)
	}
	total := min(nSQL+nCache+nHTTP+nLoop, 59)
	spans := make([]trace.Span, 1, total+1)
	if total == 0 {
		t.Spans = append(spans[:0], root)
		t.SpanCount = 1
		return t
	}
	step := duration / int64(total+1)
	at := start + step/4
	add := func(s trace.Span) {
		s.SpanID, s.ParentSpanID = g.spanID(), root.SpanID
		s.StartUnixNano = at
		s.DurationNano = max(1000, int64(float64(step)*(0.2+0.6*r.Float64())))
		at += step
		spans = append(spans, s)
	}
	site := func(s *trace.Span, a *app) (string, frame, int) {
		st, f, ln := g.stack(a)
		s.Attributes[trace.AttrCodeFunction] = siteName(f)
		s.Attributes[trace.AttrCodeFilePath] = f.file
		s.Attributes[trace.AttrCodeLineNumber] = int64(ln)
		s.Attributes[trace.AttrCodeStacktrace] = st
		return st, f, ln
	}
	sqlSpan := func() trace.Span {
		text, shape, op := g.statement(a)
		s := trace.Span{Name: op + " " + a.db, Kind: trace.KindClient, Status: trace.Status{Code: trace.StatusUnset},
			Attributes: make(trace.Attributes, 12)}
		s.Attributes[trace.AttrDBSystem] = "mysql"
		s.Attributes[trace.AttrDBNamespace] = a.db
		s.Attributes[trace.AttrDBQueryText] = text
		s.Attributes[trace.AttrDBOperation] = op
		s.Attributes[trace.AttrQueryShape] = shape
		s.Attributes[trace.AttrServerAddress] = "mysql.internal"
		s.Attributes[trace.AttrServerPort] = int64(3306)
		site(&s, a)
		return s
	}
	for range nSQL {
		if len(spans) > total {
			break
		}
		s := sqlSpan()
		s.Attributes[trace.AttrRepeatCount] = int64(1)
		if t.Error && len(spans) == total && r.IntN(2) == 0 {
			ex := exceptions[r.IntN(2)]
			s.Status = trace.Status{Code: trace.StatusError, Message: ex.typ}
			s.Attributes[trace.AttrErrorType] = ex.typ
		}
		add(s)
	}
	for range nCache {
		if len(spans) > total {
			break
		}
		s := trace.Span{Name: "GET", Kind: trace.KindClient, Status: trace.Status{Code: trace.StatusUnset},
			Attributes: trace.Attributes{
				trace.AttrDBSystem: "redis", trace.AttrDBOperation: "GET",
				trace.AttrDBQueryText:   "GET laravel_cache:" + words[r.IntN(len(words))] + ":" + strconv.Itoa(r.IntN(1000)),
				trace.AttrServerAddress: "redis.internal", trace.AttrServerPort: int64(6379),
			}}
		site(&s, a)
		add(s)
	}
	for range nHTTP {
		if len(spans) > total {
			break
		}
		u := externalURLs[r.IntN(len(externalURLs))]
		code := int64(200)
		s := trace.Span{Name: "POST", Kind: trace.KindClient, Status: trace.Status{Code: trace.StatusUnset},
			Attributes: trace.Attributes{trace.AttrHTTPMethod: "POST", trace.AttrURLFull: u, trace.AttrServerPort: int64(443)}}
		if r.IntN(50) == 0 {
			code = 503
			s.Status = trace.Status{Code: trace.StatusError, Message: "HTTP 503"}
			s.Attributes[trace.AttrErrorType] = "503"
		}
		s.Attributes[trace.AttrHTTPStatusCode] = code
		site(&s, a)
		add(s)
	}
	if n := min(nLoop, total+1-len(spans)); n > 0 {
		// One call site, one shape, n times: the assembler's N+1 finding.
		proto := sqlSpan()
		shape := proto.Attributes[trace.AttrQueryShape].(string)
		siteStr := fmt.Sprintf("%s (%s:%d)", proto.Attributes[trace.AttrCodeFunction], proto.Attributes[trace.AttrCodeFilePath], proto.Attributes[trace.AttrCodeLineNumber])
		for i := range n {
			s := proto
			s.Attributes = make(trace.Attributes, len(proto.Attributes)+2)
			for k, v := range proto.Attributes {
				s.Attributes[k] = v
			}
			s.Attributes[trace.AttrDBQueryText] = strings.Replace(shape, "?", strconv.Itoa(1000+i), 1)
			s.Attributes[trace.AttrRepeatCount] = int64(n)
			s.Attributes[trace.AttrNPlusOne] = true
			add(s)
		}
		root.SetAttr(trace.AttrNPlusOneGroups, int64(1))
		root.SetAttr(trace.AttrNPlusOneQuery, shape)
		root.SetAttr(trace.AttrNPlusOneCount, int64(n))
		root.SetAttr(trace.AttrNPlusOneSite, siteStr)
		t.NPlusOne = 1
	}
	spans[0] = root
	t.Spans = spans
	t.SpanCount = len(spans)
	return t
}
