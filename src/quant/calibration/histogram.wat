;; The fast path of TensorStats.observe (src/quant/calibration/tensor-stats.ts) in WebAssembly
;; with 128-bit SIMD: the same counts as `histogramRun`, its TypeScript twin, bin for bin.
;;
;; Memory: the caller copies float32 values into linear memory and owns the layout; `$h` points
;; at four interleaved histograms of `width` = 2 * bins int32 counts each (copy k at byte
;; h + 4 * k * width). Each histogram holds magnitudes of x >= 0 in [0, bins) and of x < 0 in
;; [bins, 2 * bins), as TensorStats' counts do; lane k of every block of four values counts
;; into copy k, so runs of one bin (the zeros after a ReLU) do not serialise on one counter.
;;
;; Per block of four values:
;;   stop       unless every |x| < range (NaN and infinities fail too): the caller takes that
;;              block one value at a time and may grow the range;
;;   bin        trunc(|x| * scale), exact since scale = bins / range is a power of two;
;;   + bins     where the sign bit is set and the value is not -0 (-0 counts as positive);
;;   zeros      lanes whose bits other than the sign are all 0;
;;   min, max   f32x4.min/max (no NaN reaches them).
(module
  (memory (export "memory") 1)
  (global $min (export "min") (mut f32) (f32.const inf))
  (global $max (export "max") (mut f32) (f32.const -inf))
  (global $zeros (export "zeros") (mut i32) (i32.const 0))

  ;; Values [start, end) of the float32 array at byte $d; returns the index of the first block of
  ;; four it did not take ($end rounded down to a block when all were taken). Reads $min and
  ;; $max as the extremes so far, writes them back, and sets $zeros to the zeros it counted.
  (func (export "run")
    (param $d i32) (param $start i32) (param $end i32) (param $h i32)
    (param $scale f32) (param $range f32) (param $shift i32) (param $width i32)
    (result i32)
    (local $i i32) (local $p i32)
    (local $v v128) (local $a v128) (local $z v128) (local $idx v128)
    (local $mins v128) (local $maxs v128) (local $zacc v128)
    (local $ranges v128) (local $scales v128) (local $copies v128)
    (local.set $mins (f32x4.splat (global.get $min)))
    (local.set $maxs (f32x4.splat (global.get $max)))
    (local.set $ranges (f32x4.splat (local.get $range)))
    (local.set $scales (f32x4.splat (local.get $scale)))
    ;; byte address of each lane's histogram: h + 4 * width * lane
    (local.set $copies
      (i32x4.add
        (i32x4.splat (local.get $h))
        (i32x4.mul (i32x4.splat (i32.shl (local.get $width) (i32.const 2))) (v128.const i32x4 0 1 2 3))))
    (local.set $i (local.get $start))
    (block $done
      (loop $block
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $a (f32x4.abs (local.get $v)))
        (br_if $done (i32.eqz (i32x4.all_true (f32x4.lt (local.get $a) (local.get $ranges)))))
        (local.set $z
          (i32x4.eq
            (v128.and (local.get $v) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
            (v128.const i32x4 0 0 0 0)))
        (local.set $idx
          (i32x4.add
            (i32x4.trunc_sat_f32x4_u (f32x4.mul (local.get $a) (local.get $scales)))
            (i32x4.shl (v128.andnot (i32x4.shr_u (local.get $v) (i32.const 31)) (local.get $z)) (local.get $shift))))
        (local.set $idx (i32x4.add (i32x4.shl (local.get $idx) (i32.const 2)) (local.get $copies)))
        (local.set $p (i32x4.extract_lane 0 (local.get $idx)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        (local.set $p (i32x4.extract_lane 1 (local.get $idx)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        (local.set $p (i32x4.extract_lane 2 (local.get $idx)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        (local.set $p (i32x4.extract_lane 3 (local.get $idx)))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        ;; a zero lane of $z is -1: subtracting counts it
        (local.set $zacc (i32x4.sub (local.get $zacc) (local.get $z)))
        (local.set $mins (f32x4.min (local.get $mins) (local.get $v)))
        (local.set $maxs (f32x4.max (local.get $maxs) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $block)))
    (global.set $min
      (f32.min
        (f32.min (f32x4.extract_lane 0 (local.get $mins)) (f32x4.extract_lane 1 (local.get $mins)))
        (f32.min (f32x4.extract_lane 2 (local.get $mins)) (f32x4.extract_lane 3 (local.get $mins)))))
    (global.set $max
      (f32.max
        (f32.max (f32x4.extract_lane 0 (local.get $maxs)) (f32x4.extract_lane 1 (local.get $maxs)))
        (f32.max (f32x4.extract_lane 2 (local.get $maxs)) (f32x4.extract_lane 3 (local.get $maxs)))))
    (global.set $zeros
      (i32.add
        (i32.add (i32x4.extract_lane 0 (local.get $zacc)) (i32x4.extract_lane 1 (local.get $zacc)))
        (i32.add (i32x4.extract_lane 2 (local.get $zacc)) (i32x4.extract_lane 3 (local.get $zacc)))))
    (local.get $i))
)
