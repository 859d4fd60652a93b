// Package iohooks lists the I/O functions Tusk times in always-on mode and
// what each one means: which argument is the SQL text, the key, the URL; what
// the call does (query, prepare, connect…). The probes package attaches them;
// the assembler turns their events into client spans. Keeping both views of a
// hook in one table means a new hook is one line here.
package iohooks

import "sort"

// Role says what a hooked call does, so the assembler knows how to join it
// with the others of its request (a prepared statement with its execution, a
// curl handle with its URL).
type Role uint8

const (
	RoleQuery           Role = iota + 1 // runs the SQL text it is given
	RolePrepare                         // prepares SQL text; the statement object is the result (or $this/arg)
	RoleExecute                         // executes a prepared statement object
	RoleConnect                         // opens a connection: host/DSN in text, database in key
	RoleSelectDB                        // changes the connection's database (key)
	RoleCache                           // one Redis/Memcached command; the key in key
	RoleHTTPOption                      // curl_easy_setopt(handle, option, value): URL or method of a handle
	RoleHTTPPerform                     // curl_easy_perform(handle): the request itself
	RoleHTTPStatus                      // curl_easy_getinfo(handle, RESPONSE_CODE): the status, when PHP asks
	RoleHTTPMultiAdd                    // curl_multi_add_handle(multi, easy): a concurrent request starts
	RoleHTTPMultiRemove                 // curl_multi_remove_handle(multi, easy): it is over
	RoleHTTPStream                      // file_get_contents/fopen of an http(s) URL
)

// System is the OpenTelemetry db.system.name (or "http" for clients).
type System string

const (
	SystemMySQL     System = "mysql"
	SystemPDO       System = "pdo" // resolved from the DSN of the connection
	SystemRedis     System = "redis"
	SystemMemcached System = "memcached"
	SystemHTTP      System = "http"
)

// Hook is one hooked function.
type Hook struct {
	// Name is the PHP function ("mysqli_query"), method ("pdo::query",
	// lowercase as in PHP's tables) or, with Library set, the C symbol.
	Name string
	// Library is the shared library exporting a C symbol ("libcurl.so"); ""
	// for PHP internal functions, found in the engine's function tables.
	Library string
	Role    Role
	System  System
	// Return: the call is timed by a uretprobe; otherwise it is an instant.
	Return bool
	// TextArg / KeyArg choose what is copied: for PHP functions the n-th
	// *string* argument (1-based), for C functions the argument index + 1.
	// Passwords are never among them.
	TextArg, KeyArg uint8
	// TextFromThis: the text is $this's first declared property
	// (PDOStatement::$queryString).
	TextFromThis bool
	// FilterArg/FilterValues: send a C call only when argument FilterArg
	// (0-based) is one of the values (curl options worth knowing).
	FilterArg    uint8
	FilterValues []uint64
	// DerefArg2: at return, read the long C argument 2 points to.
	DerefArg2 bool
	// Command is the operation shown for cache hooks ("GET").
	Command string
}

// libcurl option and info numbers (curl/curl.h).
const (
	CurlOptURL           = 10002
	CurlOptPostFields    = 10015
	CurlOptCustomRequest = 10036
	CurlOptHTTPGet       = 80
	CurlInfoResponseCode = 0x200002
)

const libcurl = "libcurl"

// StreamOpener is the hook on php_stream_url_wrap_http(wrapper, path, mode,
// …), located through the exported StreamWrapperSymbol, not by its own name
// (it is not exported).
const (
	StreamOpener        = "php_stream_url_wrap_http"
	StreamWrapperSymbol = "php_stream_http_wrapper"
)

// All is every hook, in a stable order.
var All = build()

func build() []Hook {
	hooks := []Hook{
		// mysqli: procedural and OO forms share one handler; the link or
		// statement object is $this or the first argument.
		{Name: "mysqli_query", Role: RoleQuery, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_real_query", Role: RoleQuery, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_multi_query", Role: RoleQuery, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_execute_query", Role: RoleQuery, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_prepare", Role: RolePrepare, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_stmt_prepare", Role: RolePrepare, System: SystemMySQL, Return: true, TextArg: 1},
		{Name: "mysqli_stmt_execute", Role: RoleExecute, System: SystemMySQL, Return: true},
		{Name: "mysqli_connect", Role: RoleConnect, System: SystemMySQL, Return: true, TextArg: 1, KeyArg: 4},
		{Name: "mysqli::__construct", Role: RoleConnect, System: SystemMySQL, Return: true, TextArg: 1, KeyArg: 4},
		{Name: "mysqli_real_connect", Role: RoleConnect, System: SystemMySQL, Return: true, TextArg: 1, KeyArg: 4},
		{Name: "mysqli_select_db", Role: RoleSelectDB, System: SystemMySQL, Return: true, KeyArg: 1},
		// PDO, any driver: the DSN at construction says which.
		{Name: "pdo::__construct", Role: RoleConnect, System: SystemPDO, Return: true, TextArg: 1},
		{Name: "pdo::query", Role: RoleQuery, System: SystemPDO, Return: true, TextArg: 1},
		{Name: "pdo::exec", Role: RoleQuery, System: SystemPDO, Return: true, TextArg: 1},
		{Name: "pdo::prepare", Role: RolePrepare, System: SystemPDO, Return: true, TextArg: 1},
		{Name: "pdostatement::execute", Role: RoleExecute, System: SystemPDO, Return: true, TextFromThis: true},
		// libcurl, which PHP's curl extension (and so Guzzle, WordPress's
		// Requests) calls: options as they are set, the transfer itself,
		// the status when PHP reads it.
		{Name: "curl_easy_setopt", Library: libcurl, Role: RoleHTTPOption, System: SystemHTTP, TextArg: 3,
			FilterArg: 1, FilterValues: []uint64{CurlOptURL, CurlOptCustomRequest, CurlOptPostFields, CurlOptHTTPGet}},
		{Name: "curl_easy_perform", Library: libcurl, Role: RoleHTTPPerform, System: SystemHTTP, Return: true},
		{Name: "curl_easy_getinfo", Library: libcurl, Role: RoleHTTPStatus, System: SystemHTTP, Return: true,
			FilterArg: 1, FilterValues: []uint64{CurlInfoResponseCode}, DerefArg2: true},
		{Name: "curl_multi_add_handle", Library: libcurl, Role: RoleHTTPMultiAdd, System: SystemHTTP},
		{Name: "curl_multi_remove_handle", Library: libcurl, Role: RoleHTTPMultiRemove, System: SystemHTTP},
		// PHP's own http:// stream wrapper (file_get_contents, fopen of a
		// URL): its opener, found through php_stream_http_wrapper, runs
		// for http(s) only. Hooking file_get_contents itself would trap on
		// every local file too (~90 per WordPress page, measured).
		{Name: StreamOpener, Library: StreamWrapperSymbol, Role: RoleHTTPStream, System: SystemHTTP, Return: true, TextArg: 2},
		{Name: "redis::connect", Role: RoleConnect, System: SystemRedis, Return: true, TextArg: 1},
		{Name: "redis::pconnect", Role: RoleConnect, System: SystemRedis, Return: true, TextArg: 1},
		{Name: "memcached::addserver", Role: RoleConnect, System: SystemMemcached, Return: true, TextArg: 1},
	}
	// Redis and Memcached commands: the key is the first string argument.
	// Values are never copied.
	for _, c := range redisCommands {
		hooks = append(hooks, Hook{Name: "redis::" + c[0], Role: RoleCache, System: SystemRedis, Return: true, KeyArg: 1, Command: c[1]})
	}
	for _, c := range memcachedCommands {
		hooks = append(hooks, Hook{Name: "memcached::" + c[0], Role: RoleCache, System: SystemMemcached, Return: true, KeyArg: 1, Command: c[1]})
	}
	return hooks
}

// redisCommands are the phpredis methods hooked (lowercase, as PHP's class
// table has them) and the Redis command each sends. Not every method: each
// hook is a uprobe, and these cover what PHP caches and sessions do.
var redisCommands = [][2]string{
	{"get", "GET"}, {"set", "SET"}, {"setex", "SETEX"}, {"setnx", "SETNX"}, {"del", "DEL"}, {"unlink", "UNLINK"},
	{"exists", "EXISTS"}, {"expire", "EXPIRE"}, {"ttl", "TTL"}, {"incr", "INCR"}, {"incrby", "INCRBY"},
	{"decr", "DECR"}, {"mget", "MGET"}, {"mset", "MSET"}, {"hget", "HGET"}, {"hset", "HSET"},
	{"hmget", "HMGET"}, {"hmset", "HMSET"}, {"hgetall", "HGETALL"}, {"hdel", "HDEL"}, {"hincrby", "HINCRBY"},
	{"lpush", "LPUSH"}, {"rpush", "RPUSH"}, {"lpop", "LPOP"}, {"rpop", "RPOP"}, {"lrange", "LRANGE"},
	{"llen", "LLEN"}, {"sadd", "SADD"}, {"srem", "SREM"}, {"smembers", "SMEMBERS"}, {"sismember", "SISMEMBER"},
	{"zadd", "ZADD"}, {"zrange", "ZRANGE"}, {"zrangebyscore", "ZRANGEBYSCORE"}, {"zrem", "ZREM"},
	{"zscore", "ZSCORE"}, {"publish", "PUBLISH"}, {"eval", "EVAL"}, {"evalsha", "EVALSHA"},
	{"keys", "KEYS"}, {"scan", "SCAN"}, {"exec", "EXEC"}, {"ping", "PING"},
}

var memcachedCommands = [][2]string{
	{"get", "get"}, {"getmulti", "get"}, {"set", "set"}, {"setmulti", "set"}, {"add", "add"},
	{"replace", "replace"}, {"delete", "delete"}, {"deletemulti", "delete"}, {"increment", "incr"},
	{"decrement", "decr"}, {"touch", "touch"}, {"cas", "cas"}, {"append", "append"}, {"prepend", "prepend"},
	{"getbykey", "get"}, {"setbykey", "set"},
}

// PHPNames lists the PHP functions and methods to look up in the engine's tables.
func PHPNames() []string {
	var names []string
	for _, h := range All {
		if h.Library == "" {
			names = append(names, h.Name)
		}
	}
	sort.Strings(names)
	return names
}

// LibrarySymbols groups the C symbols to hook by library.
func LibrarySymbols() map[string][]string {
	out := map[string][]string{}
	for _, h := range All {
		if h.Library != "" && h.Library != StreamWrapperSymbol {
			out[h.Library] = append(out[h.Library], h.Name)
		}
	}
	return out
}

// ByName finds a hook by Name.
func ByName(name string) (Hook, bool) {
	for _, h := range All {
		if h.Name == name {
			return h, true
		}
	}
	return Hook{}, false
}
