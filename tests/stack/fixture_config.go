package stack

import (
	"fmt"
	"strconv"
	"strings"
)

// The fixture app is served straight from the repository (see FixtureAppDir), by several stacks at once
// on different ports, and may be copied into a chroot (StackOptions.ChrootPHP): nothing stack-specific
// can live next to its pages or in the stack's dir. So the services' addresses travel with each request,
// as FastCGI params that nginx adds (FixtureConfig.Params), and tests/fixtures/app/io/lib/config.php turns
// them back into an array (fixture_config()).

// The fixture's MariaDB database and user (StackOptions.WithMariaDB).
const (
	FixtureDBName     = "tusk_fixture"
	FixtureDBUser     = "tusk"
	FixtureDBPassword = "tuskpass"
	// FixturePosts and FixtureCommentsPerPost are the rows of the posts and comments tables.
	FixturePosts           = 20
	FixtureCommentsPerPost = 3
	// FixtureSecretToken is api_tokens' token of user "alice": io/sql.php looks it up as a bound
	// parameter of a prepared statement, and it must never show up in a trace.
	FixtureSecretToken = "secret-token-123"
)

// UpstreamPool is the php-fpm pool that answers /upstream/slow when StackOptions.WithUpstream is set.
const UpstreamPool = "upstream"

// fixtureSlowScript answers /upstream/slow (path below the document root).
const fixtureSlowScript = "/io/upstream_slow.php"

// refusedURL is where nothing listens (port 1, tcpmux, is never served here): io/http.php's
// connection-refused call. A port picked at random could be taken by a parallel test's service.
const refusedURL = "http://127.0.0.1:1/upstream/ok"

// FixtureConfig is what the PHP fixture's io/ pages are told (fixture_config() in io/lib/config.php).
// A service that was not started is nil here, null in PHP, and the io/ page that needs it answers 503.
type FixtureConfig struct {
	MySQL     *FixtureMySQL
	Redis     *HostPort
	Memcached *HostPort
	HTTP      FixtureHTTP
}

// FixtureMySQL is the fixture database's TCP login.
type FixtureMySQL struct {
	Host     string
	Port     int
	User     string
	Password string
	DB       string
}

// HostPort is a TCP service address.
type HostPort struct {
	Host string
	Port int
}

// FixtureHTTP are the URLs io/http.php calls.
type FixtureHTTP struct {
	// BaseURL is the fixture's own nginx, http://127.0.0.1:<port>, which serves /upstream/….
	BaseURL string
	// RefusedURL has nothing listening behind it.
	RefusedURL string
}

// Params are the FastCGI params nginx passes to every PHP request of the fixture: TUSK_HTTP_BASE_URL
// and TUSK_HTTP_REFUSED_URL always; TUSK_MYSQL_HOST, _PORT, _USER, _PASSWORD, _DB; TUSK_REDIS_HOST,
// _PORT; TUSK_MEMCACHED_HOST, _PORT for the services that run. io/lib/config.php reads the same names.
func (c FixtureConfig) Params() []FastCGIParam {
	p := []FastCGIParam{{"TUSK_HTTP_BASE_URL", c.HTTP.BaseURL}, {"TUSK_HTTP_REFUSED_URL", c.HTTP.RefusedURL}}
	if m := c.MySQL; m != nil {
		p = append(p, FastCGIParam{"TUSK_MYSQL_HOST", m.Host}, FastCGIParam{"TUSK_MYSQL_PORT", strconv.Itoa(m.Port)},
			FastCGIParam{"TUSK_MYSQL_USER", m.User}, FastCGIParam{"TUSK_MYSQL_PASSWORD", m.Password},
			FastCGIParam{"TUSK_MYSQL_DB", m.DB})
	}
	for _, s := range []struct {
		prefix string
		hp     *HostPort
	}{{"TUSK_REDIS_", c.Redis}, {"TUSK_MEMCACHED_", c.Memcached}} {
		if s.hp != nil {
			p = append(p, FastCGIParam{s.prefix + "HOST", s.hp.Host}, FastCGIParam{s.prefix + "PORT", strconv.Itoa(s.hp.Port)})
		}
	}
	return p
}

// fixtureDatabaseSQL creates the fixture database and user and (re)creates its tables with fixed rows, so
// every start begins from the same data (io/sql.php updates posts.views):
//
//	posts(id 1..20, title "Post N", body, views 0, created_at 2024-01-N…)
//	comments(id, post_id, author, body): 3 per post, ids 3·(post−1)+1 … 3·post
//	api_tokens(id, token, owner): secret-token-123 → alice, other-token-456 → bob
func fixtureDatabaseSQL(db, user, password string) string {
	var b strings.Builder
	b.WriteString(databaseSetupSQL(db, user, password))
	fmt.Fprintf(&b, "USE `%s`;\n", db)
	b.WriteString(`CREATE OR REPLACE TABLE posts (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  title VARCHAR(200) NOT NULL,
  body TEXT NOT NULL,
  views INT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE OR REPLACE TABLE comments (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  post_id INT UNSIGNED NOT NULL,
  author VARCHAR(100) NOT NULL,
  body TEXT NOT NULL,
  KEY post_id (post_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE OR REPLACE TABLE api_tokens (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  token VARCHAR(64) NOT NULL UNIQUE,
  owner VARCHAR(100) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`)
	b.WriteString("INSERT INTO posts (id, title, body, views, created_at) VALUES\n")
	for i := 1; i <= FixturePosts; i++ {
		fmt.Fprintf(&b, "  (%d, 'Post %d', 'Body of post %d.', 0, '2024-01-%02d 12:00:00')%s\n", i, i, i, i, sep(i, FixturePosts))
	}
	b.WriteString("INSERT INTO comments (id, post_id, author, body) VALUES\n")
	authors := []string{"ann", "ben", "cid"}
	n := FixturePosts * FixtureCommentsPerPost
	for id := 1; id <= n; id++ {
		post, k := (id-1)/FixtureCommentsPerPost+1, (id-1)%FixtureCommentsPerPost
		fmt.Fprintf(&b, "  (%d, %d, '%s', 'Comment %d on post %d.')%s\n", id, post, authors[k%len(authors)], k+1, post, sep(id, n))
	}
	fmt.Fprintf(&b, "INSERT INTO api_tokens (id, token, owner) VALUES\n  (1, %s, 'alice'),\n  (2, 'other-token-456', 'bob');\n",
		sqlString(FixtureSecretToken))
	return b.String()
}

func sep(i, n int) string {
	if i == n {
		return ";"
	}
	return ","
}
