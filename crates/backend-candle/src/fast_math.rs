//! Branch-free `exp` and `erf` in plain f32 arithmetic, so loops over slices vectorize
//! (libm's scalar `erff` made GELU a large share of the MiniLM forward pass). Accuracy: exp
//! within 3e-7 relative (Cephes' expf polynomial), erf within 1e-6 absolute in f32 (Abramowitz and
//! Stegun 7.1.26, the formula PyTorch's vectorized erf uses); both tested against libm below.

#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round x / ln2 to the nearest integer k with the 1.5 * 2^23 trick (no SSE4.1 needed).
    let k = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    // r = x - k ln2, with ln2 split in two for precision.
    let r = x - k * 0.693_359_4 - k * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let e = p * r * r + r + 1.0;
    // 2^k built from its exponent bits; k is within [-126, 127] after the clamp.
    e * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let mut p = 1.061_405_4f32;
    p = p * t - 1.453_152;
    p = p * t + 1.421_413_8;
    p = p * t - 0.284_496_74;
    p = p * t + 0.254_829_6;
    let y = 1.0 - p * t * exp(-a * a);
    y.copysign(x)
}

/// Exact GELU, `x * (1 + erf(x / sqrt 2)) / 2`, as transformers' "gelu".
#[inline(always)]
pub fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// Apply `f` to every element, compiled again for AVX-512 and AVX2 and chosen at run time
/// (the crate is built for baseline x86-64).
#[inline(always)]
pub fn map_in_place<F: Fn(f32) -> f32 + Copy>(x: &mut [f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU supports AVX-512F, checked just above.
        unsafe { map_avx512(x, f) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { map_avx2(x, f) };
        return;
    }
    x.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn map_avx2<F: Fn(f32) -> f32 + Copy>(x: &mut [f32], f: F) {
    x.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn map_avx512<F: Fn(f32) -> f32 + Copy>(x: &mut [f32], f: F) {
    x.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorized_map_equals_scalar() {
        let xs: Vec<f32> = (-5000..5000).map(|i| i as f32 * 1e-3).collect();
        let mut v = xs.clone();
        map_in_place(&mut v, gelu_erf);
        for (x, y) in xs.iter().zip(&v) {
            assert!((gelu_erf(*x) - y).abs() <= 1e-6 * (1.0 + x.abs()), "{x}");
        }
    }

    #[test]
    fn exp_matches_libm() {
        let mut worst = 0f32;
        for i in -8700..8800 {
            let x = i as f32 * 0.01;
            let (got, want) = (exp(x), x.exp());
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 3e-7, "relative error {worst}");
    }

    #[test]
    fn erf_and_gelu_match_libm() {
        let mut worst = 0f32;
        for i in -100_000..100_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((erf(x) - candle_core::cpu::erf::erf_f32(x)).abs());
        }
        assert!(worst < 1e-6, "erf absolute error {worst}");
        assert_eq!(erf(0.0), 0.0);
        assert!((erf(-30.0) + 1.0).abs() < 1e-7 && (erf(30.0) - 1.0).abs() < 1e-7);
        for x in [-6.0f32, -1.0, -0.1, 0.0, 0.5, 1.0, 3.0, 12.0] {
            let exact = 0.5 * x * (1.0 + candle_core::cpu::erf::erf_f32(x / 2f32.sqrt()));
            assert!((gelu_erf(x) - exact).abs() < 1e-6, "gelu({x})");
        }
    }
}
