//! How much a segment says about its file: what a match in it is weighed by in search. A label
//! a model put on the file (a tag, an object, a sound, a posture) weighs by how sure the model
//! was and how much of the file it covers; what is said or written weighs in full.

/// A label this likely counts in full; less likely ones count in proportion.
const SURE: f32 = 0.5;

/// Even a faint label keeps this much (it was among the model's top answers).
const FAINTEST: f32 = 0.05;

/// The weight, from `FAINTEST` to 1, of a segment of `source` over `span` seconds of a file
/// lasting `duration` (none for a still).
pub fn weight(source: &str, confidence: f32, span: (f64, f64), duration: Option<f64>) -> f32 {
    if !crate::extractors::labels(source) {
        return 1.0;
    }
    let sure = (confidence / SURE).clamp(FAINTEST, 1.0);
    // A label over the whole of a video outweighs a flicker; half of it is being there at all.
    let covered = match duration {
        Some(d) if d > 0.0 && span.1 > span.0 => 0.5 + 0.5 * ((span.1 - span.0) / d).min(1.0),
        _ => 1.0,
    };
    sure * covered as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sure_and_lasting_labels_weigh_most() {
        assert_eq!(weight("transcript", 0.1, (0.0, 1.0), Some(60.0)), 1.0);
        assert_eq!(weight("tag", 0.9, (0.0, 0.0), None), 1.0);
        assert!((weight("tag", 0.1, (0.0, 0.0), None) - 0.2).abs() < 1e-6);
        assert_eq!(weight("object", 0.001, (0.0, 0.0), None), FAINTEST);
        let whole = weight("object", 0.8, (0.0, 60.0), Some(60.0));
        let flicker = weight("object", 0.8, (30.0, 31.0), Some(60.0));
        assert_eq!(whole, 1.0);
        assert!(flicker < 0.52 && flicker > 0.5, "{flicker}");
    }
}
