/*
 * Prints, as JSON, the struct offsets Tusk's BPF programs need for the PHP
 * version whose -dev headers it is compiled against (see gen.sh). Every field
 * names the php-src declaration it comes from.
 */
#define _GNU_SOURCE 1 /* memrchr, used by zend_operators.h; php_config.h of 7.4 defines it as 1 too */
#include <stddef.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "php.h"
#include "php_version.h"
#include "SAPI.h"
#include "zend_globals.h"
#include "fastcgi.h"

/*
 * struct _fcgi_request and fcgi_hash_bucket are private to main/fastcgi.c, so
 * no header declares them. Their layout, field for field, as php-src has it
 * (TCP_NODELAY is defined on Linux). Checked against main/fastcgi.c of 7.4
 * (php-7.4.33) and 8.x: identical. It dates from 7.1; 7.0 had "int closed"
 * and the hook right after it, before in_len, so this table does not fit 7.0.
 * The integration tests (tests/integration/versions_test.go) read FastCGI
 * params through it from real 7.4, 8.2 and 8.4 workers.
 */
typedef struct tusk_fcgi_hash_bucket {
	unsigned int hash_value;
	unsigned int var_len;
	char *var;
	unsigned int val_len;
	char *val;
	struct tusk_fcgi_hash_bucket *next;
	struct tusk_fcgi_hash_bucket *list_next;
} tusk_fcgi_hash_bucket;

typedef struct tusk_fcgi_hash {
	tusk_fcgi_hash_bucket *hash_table[FCGI_HASH_TABLE_SIZE];
	tusk_fcgi_hash_bucket *list;
	void *buckets;
	void *data;
} tusk_fcgi_hash;

struct tusk_fcgi_request {
	int listen_socket;
	int tcp;
	int fd;
	int id;
	int keep;
	int nodelay;
	int ended;
	int in_len;
	int in_pad;
	void *out_hdr;
	unsigned char *out_pos;
	unsigned char out_buf[1024 * 8];
	unsigned char reserved[16]; /* sizeof(fcgi_end_request_rec) */
	void (*hook[3])(void);      /* fcgi_req_hook: on_accept, on_read, on_close */
	int has_env;
	tusk_fcgi_hash env;
};

#define FIELD(name, value, last) printf("    \"%s\": %zu%s\n", name, (size_t)(value), last ? "" : ",")

int main(void)
{
	struct utsname u;
	uname(&u);
	printf("{\n");
	printf("  \"php\": \"%d.%d\",\n", PHP_MAJOR_VERSION, PHP_MINOR_VERSION);
	printf("  \"headersVersion\": \"%s\",\n", PHP_VERSION);
	printf("  \"arch\": \"%s\",\n", u.machine);
	printf("  \"sapiGlobals\": {\n");
	FIELD("serverContext", offsetof(sapi_globals_struct, server_context), 0);
	FIELD("requestMethod", offsetof(sapi_globals_struct, request_info.request_method), 0);
	FIELD("queryString", offsetof(sapi_globals_struct, request_info.query_string), 0);
	FIELD("requestURI", offsetof(sapi_globals_struct, request_info.request_uri), 0);
	FIELD("pathTranslated", offsetof(sapi_globals_struct, request_info.path_translated), 0);
	FIELD("responseCode", offsetof(sapi_globals_struct, sapi_headers.http_response_code), 1);
	printf("  },\n");
	printf("  \"fcgi\": {\n");
	FIELD("requestEnv", offsetof(struct tusk_fcgi_request, env), 0);
	FIELD("bucketVarLen", offsetof(tusk_fcgi_hash_bucket, var_len), 0);
	FIELD("bucketVar", offsetof(tusk_fcgi_hash_bucket, var), 0);
	FIELD("bucketVal", offsetof(tusk_fcgi_hash_bucket, val), 0);
	FIELD("bucketNext", offsetof(tusk_fcgi_hash_bucket, next), 0);
	FIELD("hashTableSize", FCGI_HASH_TABLE_SIZE, 1);
	printf("  },\n");
	printf("  \"executor\": {\n");
	FIELD("currentExecuteData", offsetof(zend_executor_globals, current_execute_data), 0);
	FIELD("exOpline", offsetof(zend_execute_data, opline), 0);
	FIELD("exFunc", offsetof(zend_execute_data, func), 0);
	FIELD("exThis", offsetof(zend_execute_data, This), 0);
	FIELD("exPrev", offsetof(zend_execute_data, prev_execute_data), 0);
	FIELD("funcType", offsetof(zend_function, type), 0);
	FIELD("funcName", offsetof(zend_function, common.function_name), 0);
	FIELD("funcScope", offsetof(zend_function, common.scope), 0);
	FIELD("opArrayFilename", offsetof(zend_op_array, filename), 0);
	FIELD("opArrayLineStart", offsetof(zend_op_array, line_start), 0);
	FIELD("classEntryName", offsetof(zend_class_entry, name), 0);
	FIELD("stringLen", offsetof(zend_string, len), 0);
	FIELD("stringVal", offsetof(zend_string, val), 0);
	FIELD("opLineno", offsetof(zend_op, lineno), 0);
	/* Arguments of a call: zvals right after the call frame (ZEND_CALL_ARG). */
	FIELD("exNumArgs", offsetof(zend_execute_data, This.u2.num_args), 0);
	FIELD("callArgs", ZEND_CALL_FRAME_SLOT * sizeof(zval), 0);
	FIELD("zvalSize", sizeof(zval), 0);
	FIELD("zvalType", offsetof(zval, u1.v.type), 0);
	FIELD("objectProperties", offsetof(zend_object, properties_table), 1);
	printf("  },\n");
	/* The engine's function and class tables, read by the agent (not BPF) to
	 * find the C handlers of internal functions such as mysqli_query. */
	printf("  \"tables\": {\n");
	FIELD("functionTable", offsetof(zend_executor_globals, function_table), 0);
	FIELD("classTable", offsetof(zend_executor_globals, class_table), 0);
	/* executor_globals' table pointers are set when a request starts; before
	 * that (the master, a fresh worker) only compiler_globals has them. */
	FIELD("compilerFunctionTable", offsetof(zend_compiler_globals, function_table), 0);
	FIELD("compilerClassTable", offsetof(zend_compiler_globals, class_table), 0);
	FIELD("hashArData", offsetof(HashTable, arData), 0);
	FIELD("hashNumUsed", offsetof(HashTable, nNumUsed), 0);
	FIELD("bucketSize", sizeof(Bucket), 0);
	FIELD("bucketKey", offsetof(Bucket, key), 0);
	FIELD("classFunctionTable", offsetof(zend_class_entry, function_table), 0);
	FIELD("internalHandler", offsetof(zend_internal_function, handler), 0);
	FIELD("internalModule", offsetof(zend_internal_function, module), 0);
	FIELD("zvalTypePtr", IS_PTR, 0);
	FIELD("zvalTypeUndef", IS_UNDEF, 1);
	printf("  }\n");
	printf("}\n");
	return 0;
}
