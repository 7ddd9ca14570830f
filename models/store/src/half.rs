//! IEEE half precision, both ways, branch-free so that loops over weights vectorise (the
//! method of Maratyszcza's FP16 library, which ggml uses where the CPU has no F16C).

/// Half to single precision, exactly (subnormals, infinities and NaN included).
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let w = u32::from(h) << 16;
    let sign = w & 0x8000_0000;
    let two_w = w.wrapping_add(w);
    // Normal numbers: move the exponent and mantissa into place, then rescale the bias.
    let normalized = f32::from_bits((two_w >> 4) + (0xe0 << 23)) * f32::from_bits(0x0780_0000);
    // Subnormals: the mantissa under a magic exponent, minus that exponent's value.
    let denormalized = f32::from_bits((two_w >> 17) | (126 << 23)) - 0.5;
    let magnitude = if two_w < (1 << 27) {
        denormalized.to_bits()
    } else {
        normalized.to_bits()
    };
    f32::from_bits(sign | magnitude)
}

/// Single to half precision, rounding to nearest, ties to even (as F16C's `vcvtps2ph`).
#[inline(always)]
pub(crate) fn f32_to_f16(f: f32) -> u16 {
    // Scaling up then down lets the FPU round the mantissa at the half's precision.
    let mut base = (f.abs() * f32::from_bits(0x7780_0000)) * f32::from_bits(0x0880_0000);
    let w = f.to_bits();
    let shl1_w = w.wrapping_add(w);
    let sign = w & 0x8000_0000;
    let bias = (shl1_w & 0xff00_0000).max(0x7100_0000);
    base += f32::from_bits((bias >> 1) + 0x0780_0000);
    let bits = base.to_bits();
    let nonsign = ((bits >> 13) & 0x7c00) + (bits & 0x0fff);
    ((sign >> 16)
        | if shl1_w > 0xff00_0000 {
            0x7e00
        } else {
            nonsign
        }) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_widen_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000, "negative zero");
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24), "smallest subnormal");
        assert_eq!(
            f16_to_f32(0x03ff),
            1023.0 * 2f32.powi(-24),
            "largest subnormal"
        );
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn every_finite_half_survives_the_round_trip() {
        for h in (0..=u16::MAX).filter(|h| h & 0x7c00 != 0x7c00) {
            assert_eq!(f32_to_f16(f16_to_f32(h)), h, "{h:#06x}");
        }
    }

    #[test]
    fn narrowing_rounds_to_nearest_even() {
        let one_ulp = 2f32.powi(-10);
        assert_eq!(
            f32_to_f16(1.0 + one_ulp / 2.0),
            0x3c00,
            "tie to even (down)"
        );
        assert_eq!(f32_to_f16(1.0 + one_ulp * 1.5), 0x3c02, "tie to even (up)");
        assert_eq!(f32_to_f16(1.0 + one_ulp * 0.51), 0x3c01);
        assert_eq!(
            f32_to_f16(2f32.powi(-25) * 1.01),
            0x0001,
            "to the smallest subnormal"
        );
        assert_eq!(f32_to_f16(1e6), 0x7c00, "overflow to infinity");
        assert_eq!(f32_to_f16(-0.0), 0x8000);
    }
}
