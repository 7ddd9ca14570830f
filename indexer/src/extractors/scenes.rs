//! Keyframes grouped into scenes, so that the visual models see each look once; and the
//! helpers every segment-writing extractor shares.

use vx_models::RgbView;

use crate::extract::SegmentOut;

/// Mean absolute difference (0-255) below which a keyframe counts as the same scene.
const SAME_SCENE: f32 = 6.0;

/// The scenes of a run of keyframes. A keyframe that looks like the first of the current scene
/// (compared as 16x16 grey thumbnails) extends it; one that looks like an earlier scene (a
/// slide returned to, a cut back to a speaker) starts a scene showing that look again, and the
/// visual models see each look once.
pub struct Scenes {
    /// The frame each scene starts at.
    pub starts: Vec<usize>,
    /// Each scene's look, numbered in order of first appearance.
    pub look: Vec<usize>,
    /// Each look's first scene.
    pub firsts: Vec<usize>,
}

impl Scenes {
    pub fn of(views: &[RgbView]) -> Scenes {
        let signature = |v: &RgbView| -> Option<Vec<f32>> {
            let small = v.resize(16, 16, None).ok()?;
            Some(
                small
                    .data
                    .chunks(3)
                    .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
                    .collect(),
            )
        };
        let alike = |a: &Option<Vec<f32>>, b: &Option<Vec<f32>>| match (a, b) {
            (Some(a), Some(b)) => {
                a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
                    <= SAME_SCENE
            }
            _ => false,
        };
        let mut scenes = Scenes {
            starts: Vec::new(),
            look: Vec::new(),
            firsts: Vec::new(),
        };
        let mut looks: Vec<Option<Vec<f32>>> = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let sig = signature(v);
            if let Some(&current) = scenes.look.last()
                && alike(&looks[current], &sig)
            {
                continue;
            }
            let look = match looks.iter().position(|l| alike(l, &sig)) {
                Some(l) => l,
                None => {
                    scenes.firsts.push(scenes.starts.len());
                    looks.push(sig);
                    looks.len() - 1
                }
            };
            scenes.starts.push(i);
            scenes.look.push(look);
        }
        scenes
    }

    /// The scenes that show `look`.
    pub fn showing(&self, look: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.look.len()).filter(move |&k| self.look[k] == look)
    }
}

/// Merges equal texts of the same source on consecutive frames into one longer moment.
pub fn merge_runs(mut segs: Vec<SegmentOut>) -> Vec<SegmentOut> {
    segs.sort_by(|a, b| {
        a.source
            .cmp(&b.source)
            .then(a.text.cmp(&b.text))
            .then(a.start.total_cmp(&b.start))
    });
    let mut out: Vec<SegmentOut> = Vec::new();
    for s in segs {
        if let Some(last) = out.last_mut()
            && last.source == s.source
            && last.text == s.text
            && s.start <= last.end + 1e-6
        {
            last.end = last.end.max(s.end);
            last.confidence = last.confidence.max(s.confidence);
            continue;
        }
        out.push(s);
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.source.cmp(&b.source)));
    out
}

/// A segment's text may end with words that should find it without being shown (a tag's
/// broader WordNet names, an OCR line's run-together words spaced out), after this separator.
pub const HIDDEN_WORDS: char = '\n';

/// (what to show, words that only help find it) of a segment's text.
pub fn split_hidden(text: &str) -> (&str, &str) {
    text.split_once(HIDDEN_WORDS).unwrap_or((text, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_keyframes_are_one_scene_and_a_return_shows_the_same_look() {
        let solid = |v: u8| vx_models::RgbImage {
            width: 32,
            height: 32,
            data: vec![v; 32 * 32 * 3],
        };
        let frames = [
            solid(10),
            solid(12),
            solid(200),
            solid(198),
            solid(10),
            solid(90),
        ];
        let views: Vec<RgbView> = frames.iter().map(|f| f.view()).collect();
        let scenes = Scenes::of(&views);
        assert_eq!(scenes.starts, vec![0, 2, 4, 5]);
        // The dark scene comes back at frame 4: the models see three looks, not four scenes.
        assert_eq!(scenes.look, vec![0, 1, 0, 2]);
        assert_eq!(scenes.firsts, vec![0, 1, 3]);
        assert_eq!(scenes.showing(0).collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn consecutive_equal_segments_merge() {
        let s = |start: f64, end: f64, text: &str| {
            SegmentOut::new("tags", "tag", (start, end), text.into(), 0.5)
        };
        let merged = merge_runs(vec![
            s(0.0, 2.0, "cat"),
            s(2.0, 4.0, "cat"),
            s(6.0, 8.0, "cat"),
            s(2.0, 4.0, "dog"),
        ]);
        let got: Vec<(f64, f64, &str)> = merged
            .iter()
            .map(|m| (m.start, m.end, m.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(0.0, 4.0, "cat"), (2.0, 4.0, "dog"), (6.0, 8.0, "cat")]
        );
    }
}
