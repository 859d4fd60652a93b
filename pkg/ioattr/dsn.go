package ioattr

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// pdoSystems maps PDO driver prefixes to OpenTelemetry db.system.name values.
var pdoSystems = map[string]string{
	"mysql":    "mysql", // MariaDB too: PDO cannot tell them apart before connecting
	"pgsql":    "postgresql",
	"sqlite":   "sqlite",
	"sqlite2":  "sqlite",
	"sqlsrv":   "microsoft.sql_server",
	"dblib":    "microsoft.sql_server", // FreeTDS: SQL Server (or Sybase)
	"mssql":    "microsoft.sql_server",
	"sybase":   "other_sql",
	"oci":      "oracle.db",
	"firebird": "firebird",
	"ibm":      "ibm.db2",
	"informix": "other_sql",
	"odbc":     "other_sql",
	"cubrid":   "other_sql",
	"4d":       "other_sql",
}

// urlSystems maps URL schemes (Doctrine DBAL, Laravel DATABASE_URL, Predis) to db.system.name values.
var urlSystems = map[string]string{
	"mysql": "mysql", "mysql2": "mysql", "mysqli": "mysql", "pdo-mysql": "mysql", "mariadb": "mariadb",
	"postgres": "postgresql", "postgresql": "postgresql", "pgsql": "postgresql", "pdo-pgsql": "postgresql",
	"sqlite": "sqlite", "sqlite3": "sqlite", "pdo-sqlite": "sqlite",
	"sqlsrv": "microsoft.sql_server", "mssql": "microsoft.sql_server", "pdo-sqlsrv": "microsoft.sql_server",
	"oci8": "oracle.db", "oracle": "oracle.db", "pdo-oci": "oracle.db",
	"redis": "redis", "rediss": "redis", "tcp": "", "memcached": "memcached",
}

// ParseDSN reads a PDO data source name and returns OpenTelemetry's db.system.name, db.namespace
// (the database), server.address and server.port:
//
//	mysql:host=127.0.0.1;port=3306;dbname=wp       mysql, wp, 127.0.0.1, 3306
//	mysql:unix_socket=/run/mysqld/mysqld.sock;dbname=wp   mysql, wp, /run/mysqld/mysqld.sock, 0
//	pgsql:host=db port=5432 dbname=app             postgresql, app, db, 5432 (";" or " " separated)
//	sqlite:/var/lib/app.db, sqlite::memory:        sqlite, the file (or :memory:), "", 0
//	sqlsrv:Server=db,1433;Database=app             microsoft.sql_server, app, db, 1433
//	oci:dbname=//db:1521/ORCL                      oracle.db, ORCL, db, 1521
//	firebird:dbname=db/3050:/data/app.fdb          firebird, /data/app.fdb, db, 3050
//	ibm:DATABASE=app;HOSTNAME=db;PORT=50000        ibm.db2, app, db, 50000
//
// URL forms (mysql://user:pass@db:3306/app, postgres://…, sqlite:///path) work too. A Unix socket is
// reported as the address, as OpenTelemetry allows. Keys are case-insensitive; credentials are never
// returned. The port is 0 when the DSN names none (the driver's default applies). An unknown driver gives
// system "other_sql"; an empty or unreadable DSN gives "" throughout (PDO's "uri:" indirection cannot be
// followed from here).
func ParseDSN(dsn string) (system, namespace, host string, port int) {
	dsn = strings.TrimSpace(dsn)
	if len(dsn) >= 4 && strings.EqualFold(dsn[:4], "uri:") {
		return "", "", "", 0
	}
	if strings.Contains(dsn, "://") && !strings.Contains(dsn[:strings.Index(dsn, "://")], "=") {
		return parseURLDSN(dsn)
	}
	driver, rest, ok := strings.Cut(dsn, ":")
	if !ok || driver == "" {
		return "", "", "", 0
	}
	driver = strings.ToLower(driver)
	system, ok = pdoSystems[driver]
	if !ok {
		system = "other_sql"
	}
	switch driver {
	case "sqlite", "sqlite2":
		return system, rest, "", 0
	case "odbc":
		if !strings.Contains(rest, "=") {
			return system, rest, "", 0 // odbc:name of a configured data source
		}
	}
	kv := dsnPairs(rest, driver == "pgsql")
	namespace = first(kv, "dbname", "database")
	host = first(kv, "host", "server", "hostname", "unix_socket")
	if p, err := strconv.Atoi(first(kv, "port")); err == nil && p > 0 && p < 65536 {
		port = p
	}
	switch driver {
	case "sqlsrv", "dblib", "mssql", "sybase":
		// Server=host,port or host:port, possibly tcp:host or host\instance.
		host = strings.TrimPrefix(host, "tcp:")
		if h, p, ok := strings.Cut(host, ","); ok {
			host = h
			if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 && n < 65536 {
				port = n
			}
		} else if h, p, err := net.SplitHostPort(host); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				host, port = h, n
			}
		}
	case "oci":
		// dbname=//host:port/service or a TNS name.
		if strings.HasPrefix(namespace, "//") {
			hostPort, service, _ := strings.Cut(namespace[2:], "/")
			namespace = service
			host, port = splitHostPort(hostPort, port)
		}
	case "firebird":
		// dbname=host[/port]:path or just path.
		if h, path, ok := strings.Cut(namespace, ":"); ok && h != "" && !strings.HasPrefix(path, `\`) && len(h) > 1 {
			namespace = path
			if hh, p, ok := strings.Cut(h, "/"); ok {
				h = hh
				if n, err := strconv.Atoi(p); err == nil {
					port = n
				}
			}
			host = h
		}
	case "mysql", "pgsql":
		if host != "" && host[0] == '[' && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1]
		}
	}
	return system, namespace, host, port
}

// dsnPairs splits "k=v;k=v" (and, for PostgreSQL, "k=v k=v") into lower-case keys and values.
func dsnPairs(s string, spaces bool) map[string]string {
	kv := map[string]string{}
	sep := func(r rune) bool { return r == ';' || (spaces && (r == ' ' || r == '\t' || r == '\n')) }
	for _, part := range strings.FieldsFunc(s, sep) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if _, dup := kv[k]; !dup {
			kv[k] = strings.Trim(strings.TrimSpace(v), "'")
		}
	}
	return kv
}

func first(kv map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := kv[k]; v != "" {
			return v
		}
	}
	return ""
}

// splitHostPort splits host:port, [v6]:port or a bare host; def is kept when there is no valid port.
func splitHostPort(s string, def int) (string, int) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			return h, n
		}
		return h, def
	}
	return strings.Trim(s, "[]"), def
}

func parseURLDSN(dsn string) (system, namespace, host string, port int) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", "", 0
	}
	scheme := strings.ToLower(u.Scheme)
	system, ok := urlSystems[scheme]
	if !ok {
		system = "other_sql"
	}
	if system == "sqlite" {
		return system, u.Host + u.Path, "", 0
	}
	host = u.Hostname()
	if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 && p < 65536 {
		port = p
	}
	namespace = strings.TrimPrefix(u.Path, "/")
	if namespace == "" {
		namespace = u.Query().Get("dbname")
	}
	return system, namespace, host, port
}
