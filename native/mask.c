/*
 * Native masking accelerator (RFC 6455 §5.3): XOR of a payload with its 4-byte masking key repeated.
 *
 * Why native code next to the WebAssembly kernel: a WebAssembly module can only touch its own linear
 * memory, so every payload has to be copied in and out of it, and two copies cost more than the XOR
 * itself. This addon works on the caller's bytes where they are. It is optional: when it cannot be built
 * or loaded, Conduit keeps its WebAssembly SIMD and JavaScript paths.
 *
 * Built by scripts/build-native.mjs against Node-API (ABI-stable, so one build serves every Node version
 * from the one it was built with onwards). The loop uses GCC/Clang vector extensions; on x86-64 the
 * compiler also emits an AVX2 clone picked at load time on CPUs that have it.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t block_t __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTI_TARGET __attribute__((target_clones("avx2", "default")))
#else
#define MULTI_TARGET
#endif

/*
 * target[i] = source[i] ^ key[i mod 4], where `key` holds the key bytes in memory order, already rotated
 * so that its first byte applies to source[0]. source and target may be the same buffer (in place) but
 * must not otherwise overlap. Loads and stores go through memcpy, which compiles to unaligned vector
 * moves, so any source alignment works.
 */
MULTI_TARGET
static void xor_key(const uint8_t *source, uint8_t *target, size_t length, const uint8_t key[4]) {
  /*
   * Bytes up to the target's next 32-byte boundary go one by one: aligned stores never straddle a cache
   * line, which is worth ~20 % in place (where the source is then aligned as well).
   */
  size_t i = 0;
  size_t head = (32 - ((uintptr_t)target & 31)) & 31;
  if (head > length) head = length;
  for (; i < head; i++) target[i] = source[i] ^ key[i & 3];
  block_t pattern;
  for (size_t j = 0; j < sizeof pattern; j++) pattern[j] = key[(head + j) & 3];
  for (; i + 4 * sizeof(block_t) <= length; i += 4 * sizeof(block_t)) {
    block_t a, b, c, d;
    memcpy(&a, source + i, sizeof a);
    memcpy(&b, source + i + 32, sizeof b);
    memcpy(&c, source + i + 64, sizeof c);
    memcpy(&d, source + i + 96, sizeof d);
    a ^= pattern;
    b ^= pattern;
    c ^= pattern;
    d ^= pattern;
    memcpy(target + i, &a, sizeof a);
    memcpy(target + i + 32, &b, sizeof b);
    memcpy(target + i + 64, &c, sizeof c);
    memcpy(target + i + 96, &d, sizeof d);
  }
  for (; i + sizeof(block_t) <= length; i += sizeof(block_t)) {
    block_t a;
    memcpy(&a, source + i, sizeof a);
    a ^= pattern;
    memcpy(target + i, &a, sizeof a);
  }
  for (; i < length; i++) target[i] = source[i] ^ key[i & 3];
}

/* The key word as JavaScript packs it (byte 0 in the low 8 bits) turned back into bytes. */
static void key_bytes(uint32_t word, uint8_t key[4]) {
  key[0] = (uint8_t)word;
  key[1] = (uint8_t)(word >> 8);
  key[2] = (uint8_t)(word >> 16);
  key[3] = (uint8_t)(word >> 24);
}

/* The bytes of a Uint8Array argument, or NULL after throwing a TypeError. */
static uint8_t *bytes_of(napi_env env, napi_value value, size_t *length) {
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Uint8Array");
    return NULL;
  }
  /* An empty view may report a NULL pointer; callers return before touching it. */
  return data != NULL ? (uint8_t *)data : (uint8_t *)"";
}

/* xor(data: Uint8Array, key: number): XORs data in place. */
static napi_value js_xor(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t word = 0;
  size_t length = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_uint32(env, argv[1], &word) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "xor(data, key): key must be a number");
    return NULL;
  }
  uint8_t *data = bytes_of(env, argv[0], &length);
  if (data == NULL || length == 0) return NULL;
  uint8_t key[4];
  key_bytes(word, key);
  xor_key(data, data, length, key);
  return NULL;
}

/* xorInto(source: Uint8Array, key: number, target: Uint8Array, offset: number): writes the masked copy. */
static napi_value js_xor_into(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint32_t word = 0;
  uint32_t offset = 0;
  size_t source_length = 0;
  size_t target_length = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_get_value_uint32(env, argv[1], &word) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &offset) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "xorInto(source, key, target, offset): bad arguments");
    return NULL;
  }
  const uint8_t *source = bytes_of(env, argv[0], &source_length);
  if (source == NULL) return NULL;
  uint8_t *target = bytes_of(env, argv[2], &target_length);
  if (target == NULL) return NULL;
  /* Checked here too: a wrong offset from JavaScript must never become a write past the buffer. */
  if (offset > target_length || source_length > target_length - offset) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "xorInto: the masked bytes do not fit in target");
    return NULL;
  }
  if (source_length == 0) return NULL;
  uint8_t key[4];
  key_bytes(word, key);
  xor_key(source, target + offset, source_length, key);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor functions[] = {
      {"xor", NULL, js_xor, NULL, NULL, NULL, napi_default, NULL},
      {"xorInto", NULL, js_xor_into, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
