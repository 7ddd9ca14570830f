//! Loudness (EBU R128) of the sound, measured while it decodes, at its own rate and channels:
//! integrated loudness, loudness range, true peak and clipped samples. No model.

use ebur128::{EbuR128, Mode};
use vx_models::ModelError;

use super::{Cx, Extractor, Measure, Meter, Metered, Stage};
use crate::extract::Output;
use crate::media::MediaKind;

/// A sample this close to full scale counts as clipped (16-bit full scale is 32767/32768).
const FULL_SCALE: f32 = 0.9999;

pub struct Loudness;

impl Extractor for Loudness {
    fn name(&self) -> &'static str {
        "loudness"
    }
    fn version(&self) -> u32 {
        1
    }
    fn stage(&self) -> Stage {
        Stage::Sound
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Video, MediaKind::Audio]
    }
    fn measures(&self) -> &'static [Measure] {
        &[
            Measure {
                name: "loudness",
                unit: "LUFS",
                about: "integrated loudness",
            },
            Measure {
                name: "loudness_range",
                unit: "LU",
                about: "loudness range",
            },
            Measure {
                name: "true_peak",
                unit: "dBTP",
                about: "true peak",
            },
            Measure {
                name: "clipped",
                unit: "samples",
                about: "clipped samples",
            },
        ]
    }
    fn show(&self, m: &Measure, value: f64) -> String {
        match m.name {
            "clipped" => format!("{}: {value:.0}", m.about),
            _ => format!("{}: {value:.1} {}", m.about, m.unit),
        }
    }
    fn meter(&self, rate: u32, channels: u32) -> Option<Box<dyn Meter>> {
        let mode = Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::HISTOGRAM;
        match EbuR128::new(channels, rate, mode) {
            Ok(r128) => Some(Box::new(R128 {
                r128,
                clipped: 0,
                error: None,
            })),
            Err(e) => {
                tracing::warn!("loudness: {channels} channels at {rate} Hz: {e}");
                None
            }
        }
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        out.measures.extend(cx.take_measures(self.name())?);
        Ok(())
    }
}

struct R128 {
    r128: EbuR128,
    clipped: u64,
    error: Option<String>,
}

impl Meter for R128 {
    fn push(&mut self, samples: &[f32]) {
        self.clipped += samples.iter().filter(|s| s.abs() >= FULL_SCALE).count() as u64;
        if let Err(e) = self.r128.add_frames_f32(samples)
            && self.error.is_none()
        {
            self.error = Some(format!("loudness: {e}"));
        }
    }

    fn finish(self: Box<Self>) -> Metered {
        if let Some(e) = self.error {
            return Err(e);
        }
        let err = |e: ebur128::Error| format!("loudness: {e}");
        let peak = (0..self.r128.channels())
            .map(|c| self.r128.true_peak(c))
            .try_fold(0.0f64, |m, p| p.map(|p| m.max(p)))
            .map_err(err)?;
        // Silence has no loudness (minus infinity): it is left out rather than stored.
        let finite = |v: f64| v.is_finite().then_some(v);
        let mut values = Vec::new();
        if let Some(lufs) = finite(self.r128.loudness_global().map_err(err)?) {
            values.push(("loudness", lufs));
            values.push(("loudness_range", self.r128.loudness_range().map_err(err)?));
        }
        if let Some(db) = finite(20.0 * peak.log10()) {
            values.push(("true_peak", db));
        }
        values.push(("clipped", self.clipped as f64));
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sine of `amplitude` at 1 kHz, `secs` long, on `channels` channels at 48 kHz.
    fn sine(amplitude: f32, secs: usize, channels: usize) -> Vec<f32> {
        (0..48_000 * secs)
            .flat_map(|i| {
                let v =
                    amplitude * (i as f32 * 2.0 * std::f32::consts::PI * 1000.0 / 48_000.0).sin();
                std::iter::repeat_n(v, channels)
            })
            .collect()
    }

    fn measure(samples: &[f32], channels: u32) -> Vec<(&'static str, f64)> {
        let mut m = Loudness.meter(48_000, channels).unwrap();
        // Fed in decoder-sized pieces.
        for piece in samples.chunks(1024 * channels as usize) {
            m.push(piece);
        }
        m.finish().unwrap()
    }

    fn value(values: &[(&str, f64)], name: &str) -> Option<f64> {
        values.iter().find(|(n, _)| *n == name).map(|v| v.1)
    }

    #[test]
    fn a_stereo_sine_measures_its_level_in_lufs_with_no_clipping() {
        // EBU Tech 3341: a 1 kHz sine at -23 dBFS on both channels of a stereo signal measures
        // -23 LUFS; here at -6.02 dBFS (half of full scale).
        let values = measure(&sine(0.5, 10, 2), 2);
        let lufs = value(&values, "loudness").unwrap();
        assert!((lufs - (-6.02)).abs() < 0.1, "{values:?}");
        let peak = value(&values, "true_peak").unwrap();
        assert!((peak - (-6.02)).abs() < 0.2, "{values:?}");
        assert!(
            value(&values, "loudness_range").unwrap() < 0.5,
            "{values:?}"
        );
        assert_eq!(value(&values, "clipped"), Some(0.0));
    }

    #[test]
    fn clipped_samples_are_counted_and_silence_has_no_loudness() {
        let clipped: Vec<f32> = sine(1.5, 2, 1).iter().map(|s| s.clamp(-1.0, 1.0)).collect();
        let at_full_scale = clipped.iter().filter(|s| s.abs() >= FULL_SCALE).count();
        let values = measure(&clipped, 1);
        assert_eq!(value(&values, "clipped"), Some(at_full_scale as f64));
        assert!(at_full_scale > 10_000, "{at_full_scale}");
        let silent = measure(&vec![0.0; 48_000 * 3], 1);
        assert_eq!(value(&silent, "loudness"), None);
        assert_eq!(value(&silent, "true_peak"), None);
        assert_eq!(value(&silent, "clipped"), Some(0.0));
    }
}
