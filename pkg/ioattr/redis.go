package ioattr

import "strings"

// redisAliases are phpredis methods whose Redis command is not their upper-cased name (mostly old
// aliases phpredis keeps), by lower-case method name.
var redisAliases = map[string]string{
	"delete": "DEL", "open": "", "popen": "", "connect": "", "pconnect": "", "close": "",
	"getkeys": "KEYS", "getmultiple": "MGET", "renamekey": "RENAME", "settimeout": "EXPIRE",
	"substr": "GETRANGE", "evaluate": "EVAL", "evaluatesha": "EVALSHA",
	"lsize": "LLEN", "lget": "LINDEX", "lgetrange": "LRANGE", "lremove": "LREM", "listtrim": "LTRIM",
	"ssize": "SCARD", "scontains": "SISMEMBER", "sremove": "SREM", "sgetmembers": "SMEMBERS",
	"zsize": "ZCARD", "zdelete": "ZREM", "zremove": "ZREM", "zreverserange": "ZREVRANGE",
	"zdeleterangebyscore": "ZREMRANGEBYSCORE", "zremoverangebyscore": "ZREMRANGEBYSCORE",
	"zdeleterangebyrank": "ZREMRANGEBYRANK", "zremrangebyrank": "ZREMRANGEBYRANK",
	"zinter": "ZINTERSTORE", "zunion": "ZUNIONSTORE",
	"sendecho": "ECHO",
	// Client-side only: no command of their own.
	"pipeline": "", "setoption": "", "getoption": "", "getlasterror": "", "clearlasterror": "",
	"isconnected": "", "gethost": "", "getport": "", "getdbnum": "", "gettimeout": "", "getreadtimeout": "",
	"getpersistentid": "", "getauth": "", "getmode": "", "rawcommand": "", "_prefix": "", "_serialize": "",
	"_unserialize": "", "_pack": "", "_unpack": "", "_compress": "", "_uncompress": "", "__construct": "",
	"__destruct": "",
}

// RedisCommandName returns the Redis command (db.operation.name for Redis) a phpredis method sends:
// its name upper-cased ("hGetAll" → HGETALL), or for aliases the real command ("delete" → DEL,
// "lSize" → LLEN, "setTimeout" → EXPIRE). Methods that send no command of their own (connect, close,
// setOption, pipeline, rawCommand, whose command is its first argument) give "". PHP method names are
// case-insensitive, and so is this.
func RedisCommandName(method string) string {
	lower := strings.ToLower(method)
	if cmd, ok := redisAliases[lower]; ok {
		return cmd
	}
	for i := 0; i < len(lower); i++ {
		if c := lower[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "" // not a method name
		}
	}
	return strings.ToUpper(lower)
}
