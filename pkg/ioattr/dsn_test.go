package ioattr

import "testing"

func TestParseDSN(t *testing.T) {
	type out struct {
		system, namespace, host string
		port                    int
	}
	for _, tc := range []struct {
		dsn  string
		want out
	}{
		{"mysql:host=127.0.0.1;port=3306;dbname=wp", out{"mysql", "wp", "127.0.0.1", 3306}},
		{"mysql:host=127.0.0.1;port=41234;dbname=tusk_fixture", out{"mysql", "tusk_fixture", "127.0.0.1", 41234}},
		{"mysql:dbname=wp;host=localhost", out{"mysql", "wp", "localhost", 0}},
		{"MySQL:Host=db;DBName=wp;charset=utf8mb4", out{"mysql", "wp", "db", 0}},
		{"mysql:unix_socket=/run/mysqld/mysqld.sock;dbname=wp", out{"mysql", "wp", "/run/mysqld/mysqld.sock", 0}},
		{"mysql:host=[::1];port=3307", out{"mysql", "", "::1", 3307}},
		{"mysql:host=db;port=notaport;dbname=x", out{"mysql", "x", "db", 0}},
		{"mysql:host=db;port=70000", out{"mysql", "", "db", 0}},
		{"mysql: host = db ; dbname = wp ", out{"mysql", "wp", "db", 0}},
		{"pgsql:host=localhost;port=5432;dbname=testdb;user=bruce;password=mypass", out{"postgresql", "testdb", "localhost", 5432}},
		{"pgsql:host=db port=5433 dbname=app", out{"postgresql", "app", "db", 5433}},
		{"sqlite:/var/lib/app.db", out{"sqlite", "/var/lib/app.db", "", 0}},
		{"sqlite::memory:", out{"sqlite", ":memory:", "", 0}},
		{"sqlite2:/tmp/x.db", out{"sqlite", "/tmp/x.db", "", 0}},
		{"sqlsrv:Server=db,1433;Database=app", out{"microsoft.sql_server", "app", "db", 1433}},
		{"sqlsrv:Server=tcp:db.example.com,1444;Database=app", out{"microsoft.sql_server", "app", "db.example.com", 1444}},
		{"dblib:host=db:1433;dbname=app", out{"microsoft.sql_server", "app", "db", 1433}},
		{"oci:dbname=//db:1521/ORCL", out{"oracle.db", "ORCL", "db", 1521}},
		{"oci:dbname=ORCL", out{"oracle.db", "ORCL", "", 0}},
		{"firebird:dbname=db/3050:/data/app.fdb", out{"firebird", "/data/app.fdb", "db", 3050}},
		{"firebird:dbname=localhost:/data/app.fdb", out{"firebird", "/data/app.fdb", "localhost", 0}},
		{`firebird:dbname=C:\data\app.fdb`, out{"firebird", `C:\data\app.fdb`, "", 0}},
		{"ibm:DRIVER={IBM DB2 ODBC DRIVER};DATABASE=app;HOSTNAME=db;PORT=50000;PROTOCOL=TCPIP", out{"ibm.db2", "app", "db", 50000}},
		{"odbc:warehouse", out{"other_sql", "warehouse", "", 0}},
		{"odbc:Driver={X};Server=db;Database=app", out{"other_sql", "app", "db", 0}},
		{"cubrid:host=db;port=33000;dbname=demo", out{"other_sql", "demo", "db", 33000}},
		{"mystery:host=db", out{"other_sql", "", "db", 0}},
		{"mysql://user:secret@db:3307/shop?charset=utf8", out{"mysql", "shop", "db", 3307}},
		{"postgres://u:p@[::1]:5432/app", out{"postgresql", "app", "::1", 5432}},
		{"sqlite:///var/lib/app.db", out{"sqlite", "/var/lib/app.db", "", 0}},
		{"redis://cache:6380/2", out{"redis", "2", "cache", 6380}},
		{"uri:file:///etc/pdo/dsn", out{}},
		{"", out{}},
		{"nocolon", out{}},
		{":host=x", out{}},
		{"mysql://%zz", out{}},
	} {
		s, ns, h, p := ParseDSN(tc.dsn)
		if got := (out{s, ns, h, p}); got != tc.want {
			t.Errorf("ParseDSN(%q) = %+v, want %+v", tc.dsn, got, tc.want)
		}
	}
}
