;; SIMD XOR kernel behind src/protocol/mask-wasm.ts (RFC 6455 §5.3 masking).
;;
;; A WebAssembly module only sees its own linear memory, so the JavaScript side copies a chunk of the
;; payload to offset 0..15 (matching the payload's address mod 16), calls `xor` from offset 0 (the bytes
;; before the chunk are scratch), and copies the result back. The chunk never exceeds
;; XOR_KERNEL_CAPACITY of mask-wasm.ts (32 KiB), so one 64 KiB page holds it, its offset, and the up to
;; 15 bytes of slack that the last 16-byte block may touch past its end.
;;
;; Build: see the comment at the top of mask-wasm.ts (wabt with the SIMD feature enabled).
(module
  (memory (export "memory") 1)

  ;; XORs bytes [0, len) with `key` repeated: `key` holds the 4 masking-key bytes already rotated to the
  ;; key phase of byte 0, little-endian (WebAssembly memory is always little-endian). Every access is a
  ;; 16-byte-aligned v128.
  (func (export "xor") (param $len i32) (param $key i32)
    (local $i i32)
    (local $k v128)
    (local.set $k (i32x4.splat (local.get $key)))
    ;; 128 bytes per iteration: 8 independent load/xor/store triples keep the store port busy.
    (block $bulk_done
      (loop $bulk
        (br_if $bulk_done (i32.gt_u (i32.add (local.get $i) (i32.const 128)) (local.get $len)))
        (v128.store offset=0 (local.get $i) (v128.xor (v128.load offset=0 (local.get $i)) (local.get $k)))
        (v128.store offset=16 (local.get $i) (v128.xor (v128.load offset=16 (local.get $i)) (local.get $k)))
        (v128.store offset=32 (local.get $i) (v128.xor (v128.load offset=32 (local.get $i)) (local.get $k)))
        (v128.store offset=48 (local.get $i) (v128.xor (v128.load offset=48 (local.get $i)) (local.get $k)))
        (v128.store offset=64 (local.get $i) (v128.xor (v128.load offset=64 (local.get $i)) (local.get $k)))
        (v128.store offset=80 (local.get $i) (v128.xor (v128.load offset=80 (local.get $i)) (local.get $k)))
        (v128.store offset=96 (local.get $i) (v128.xor (v128.load offset=96 (local.get $i)) (local.get $k)))
        (v128.store offset=112 (local.get $i) (v128.xor (v128.load offset=112 (local.get $i)) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 128)))
        (br $bulk)))
    ;; Remaining 16-byte blocks; the last one may run past `len` into scratch bytes nobody reads.
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $len)))
        (v128.store (local.get $i) (v128.xor (v128.load (local.get $i)) (local.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $tail)))))
