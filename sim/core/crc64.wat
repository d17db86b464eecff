;; CRC-64/Jones (redis src/crc64.c) by slicing-by-16, the kernel behind sim/core/crc64.ts.
;; sim/core/crc64-wasm.ts embeds this file's assembly (wabt's wat2wasm; test/crc64.test.ts checks
;; the embedded bytes are exactly that) and fills the tables from the JavaScript ones.
;;
;; Memory (3 pages):
;;   [0, 32768)        16 lookup tables of 256 little-endian i64: table k at k * 2048 maps a byte
;;                     to the CRC register after that byte and then k zero bytes (crcspeed.c's
;;                     layout, doubled: 16 bytes per step halve the chain of dependent loads);
;;   [32768, 32776)    the running register, read at entry and written back at exit;
;;   [32776, 98312)    the input, at most 65536 bytes per call (the caller copies it in).
(module
  (memory (export "memory") 3)
  (func (export "update") (param $len i32)
    (local $crc i64) (local $p i32) (local $end i32) (local $w i64)
    (local $lo i32) (local $hi i32) (local $lo2 i32) (local $hi2 i32)
    (local.set $crc (i64.load (i32.const 32768)))
    (local.set $p (i32.const 32776))
    (local.set $end (i32.add (i32.const 32776) (local.get $len)))
    ;; 16 bytes per step: xor the first 8 into the register, then one table per input byte.
    (block $done16
      (loop $next16
        (br_if $done16 (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $crc (i64.xor (local.get $crc) (i64.load (local.get $p))))
        (local.set $w (i64.load offset=8 (local.get $p)))
        (local.set $lo (i32.wrap_i64 (local.get $crc)))
        (local.set $hi (i32.wrap_i64 (i64.shr_u (local.get $crc) (i64.const 32))))
        (local.set $lo2 (i32.wrap_i64 (local.get $w)))
        (local.set $hi2 (i32.wrap_i64 (i64.shr_u (local.get $w) (i64.const 32))))
        (local.set $crc
          (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.xor (i64.load offset=30720 (i32.shl (i32.and (local.get $lo) (i32.const 255)) (i32.const 3)))
              (i64.load offset=28672 (i32.and (i32.shr_u (local.get $lo) (i32.const 5)) (i32.const 2040))))
              (i64.load offset=26624 (i32.and (i32.shr_u (local.get $lo) (i32.const 13)) (i32.const 2040))))
              (i64.load offset=24576 (i32.and (i32.shr_u (local.get $lo) (i32.const 21)) (i32.const 2040))))
              (i64.load offset=22528 (i32.shl (i32.and (local.get $hi) (i32.const 255)) (i32.const 3))))
              (i64.load offset=20480 (i32.and (i32.shr_u (local.get $hi) (i32.const 5)) (i32.const 2040))))
              (i64.load offset=18432 (i32.and (i32.shr_u (local.get $hi) (i32.const 13)) (i32.const 2040))))
              (i64.load offset=16384 (i32.and (i32.shr_u (local.get $hi) (i32.const 21)) (i32.const 2040))))
              (i64.load offset=14336 (i32.shl (i32.and (local.get $lo2) (i32.const 255)) (i32.const 3))))
              (i64.load offset=12288 (i32.and (i32.shr_u (local.get $lo2) (i32.const 5)) (i32.const 2040))))
              (i64.load offset=10240 (i32.and (i32.shr_u (local.get $lo2) (i32.const 13)) (i32.const 2040))))
              (i64.load offset=8192 (i32.and (i32.shr_u (local.get $lo2) (i32.const 21)) (i32.const 2040))))
              (i64.load offset=6144 (i32.shl (i32.and (local.get $hi2) (i32.const 255)) (i32.const 3))))
              (i64.load offset=4096 (i32.and (i32.shr_u (local.get $hi2) (i32.const 5)) (i32.const 2040))))
              (i64.load offset=2048 (i32.and (i32.shr_u (local.get $hi2) (i32.const 13)) (i32.const 2040))))
              (i64.load offset=0 (i32.and (i32.shr_u (local.get $hi2) (i32.const 21)) (i32.const 2040)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next16)))
    ;; The tail, a byte at a time.
    (block $done1
      (loop $next1
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $crc
          (i64.xor
            (i64.load (i32.shl (i32.and (i32.xor (i32.wrap_i64 (local.get $crc)) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 3)))
            (i64.shr_u (local.get $crc) (i64.const 8))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next1)))
    (i64.store (i32.const 32768) (local.get $crc))))
