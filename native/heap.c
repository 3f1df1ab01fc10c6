/*
 * Heap tuning for processes that relay large messages (glibc only).
 *
 * Why: a 64 KB WebSocket message needs a fresh buffer or two (assembled from several reads, then framed
 * for the other side). glibc returns freed memory at the top of its heap to the kernel as soon as more
 * than 128 KiB are free (M_TRIM_THRESHOLD), and serves blocks from 128 KiB up with their own mmap()
 * (M_MMAP_THRESHOLD, which then adapts). Under a steady stream of large messages, the freed buffers are
 * handed back and the next ones fault every page in again: measured at ~16 page faults per 64 KB
 * message, most of a relaying gateway's time. Raising both thresholds keeps freed memory in the heap
 * for reuse, bounded by the trim threshold.
 *
 * Built by scripts/build-native.mjs on Linux; elsewhere (or with another C library) tuning is a no-op
 * and `tune()` returns false.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* tune(trimThreshold, mmapThreshold) -> boolean: whether the C library took both settings. */
static napi_value tune(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t trim = 0;
  int64_t mmap_threshold = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int64(env, argv[0], &trim) != napi_ok ||
      napi_get_value_int64(env, argv[1], &mmap_threshold) != napi_ok || trim <= 0 || mmap_threshold <= 0 ||
      trim > 0x7fffffff || mmap_threshold > 0x7fffffff) {
    napi_throw_range_error(env, "ERR_CONDUIT_HEAP", "tune() takes two positive byte counts below 2 GiB");
    return NULL;
  }
  int ok = 0;
#if defined(__GLIBC__)
  ok = mallopt(M_TRIM_THRESHOLD, (int)trim) == 1 && mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold) == 1;
#endif
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "tune", NAPI_AUTO_LENGTH, tune, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "tune", fn) != napi_ok) return NULL;
  return exports;
}
