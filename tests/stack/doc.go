// Package stack brings up real services on loopback for Tusk's integration tests and demo: php-fpm,
// nginx, MariaDB and Debian's WordPress, each started by hand in the foreground with our own config,
// everything (configs, logs, pid files, sockets, data) under one base dir, and stopped by PID.
//
// Two ready-made stacks:
//
//	s, err := stack.StartFixture(ctx, dir, stack.StackOptions{FPMEnv: []string{"USE_ZEND_DTRACE=1"}})
//	defer s.Stop()
//	http.Get(s.URL() + "/index.php")     // tests/fixtures/app, see its README for the call tree
//	s.FPM.WorkerPIDs(s.Pool)             // the php-fpm workers to attach to
//
//	s, err := stack.StartWordPress(ctx, dir, stack.StackOptions{})   // MariaDB + php-fpm + nginx + install
//
//	// The fixture with MariaDB (tusk_fixture), Redis, memcached and the upstream pool for its io/ pages:
//	s, err := stack.StartFixture(ctx, dir, stack.StackOptions{}.WithIO())
//
// The pieces (StartFPM, StartNginx, StartMariaDB, StartRedis, StartMemcached, InstallWordPress) can be
// used on their own.
//
// Every wait is bounded and polls a real readiness check (workers in /proc, a listening port, an HTTP
// answer, mariadb-admin ping); a failure names what it waited for and quotes the tail of the service's
// logs. Services run in their own session: Stop signals the leader (graceful first, SIGKILL to the
// whole process group after a timeout) and returns once nothing of it is left. Unless detached
// (tusk-stack up), they also get SIGTERM from the kernel if the starting process dies.
//
// DIR/state.json records the processes with their start times, so another process can inspect or stop
// the stack (LoadState, StopDir, and the tusk-stack command in cmd/tusk-stack).
//
// The base dir must be reachable by www-data (nginx and php-fpm workers): os.MkdirTemp and t.TempDir
// create 0700 dirs, so chmod them 0755.
package stack
