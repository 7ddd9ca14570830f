//! Who speaks when within one recording: voice embeddings of overlapping windows over the
//! speech, grouped into speakers, then read in time order as turns. No speaker count is
//! given: windows join the nearest voice or start one; the groups are then refined a few
//! times (each window to its nearest voice, voices that came out alike merged, voices too
//! short to trust folded into their nearest).

use crate::extract::SpeakerOut;
use crate::people::{dot, unit};
use crate::semantic::mean_direction;

/// Cosine from which a window joins a voice while grouping (Resemblyzer windows of one voice
/// score 0.7-0.9 with each other, of different voices 0.4-0.65).
pub const JOIN: f32 = 0.7;
/// Cosine from which two voices of a recording are one (voices' centroids: the same speaker
/// about 0.9, different speakers of the pack's clips 0.5-0.72).
pub const MERGE: f32 = 0.78;
/// A voice heard in fewer windows (about 2.3 s) is folded into its nearest voice: too little
/// speech to tell a voice by, as the pack README finds for clips under 2 s.
pub const MIN_WINDOWS: usize = 3;
/// Rounds of refining.
const ROUNDS: usize = 3;

/// One window: where it starts and ends (seconds) and its unit embedding.
#[derive(Clone, Debug)]
pub struct Window {
    pub start: f64,
    pub end: f64,
    pub embedding: Vec<f32>,
}

/// Turns of the same voice closer than this (seconds) are one turn: a pause, not a change.
const SAME_TURN: f64 = 1.5;

/// The speakers of windows given in time order (windows of separate speech regions may
/// leave gaps between them).
pub fn diarize(windows: &[Window]) -> Vec<SpeakerOut> {
    if windows.is_empty() {
        return Vec::new();
    }
    let labels = refine(windows, first_grouping(windows));
    let labels = smooth(labels);
    let labels = numbered(labels);
    let speakers = labels.iter().max().map_or(0, |m| m + 1);
    (0..speakers)
        .map(|s| {
            let mine = || windows.iter().zip(&labels).filter(move |(_, l)| **l == s);
            let turns = turns(windows, &labels, s);
            SpeakerOut {
                speaker: s as u32 + 1,
                seconds: turns.iter().map(|(a, b)| b - a).sum(),
                embedding: centroid(mine().map(|(w, _)| &w.embedding[..])),
                turns,
            }
        })
        .collect()
}

/// Each window to the first voice it is close enough to, in time order.
fn first_grouping(windows: &[Window]) -> Vec<usize> {
    let mut sums: Vec<Vec<f32>> = Vec::new();
    windows
        .iter()
        .map(|w| match nearest(&sums, &w.embedding) {
            Some((k, s)) if s >= JOIN => {
                sums[k]
                    .iter_mut()
                    .zip(&w.embedding)
                    .for_each(|(c, x)| *c += x);
                k
            }
            _ => {
                sums.push(w.embedding.clone());
                sums.len() - 1
            }
        })
        .collect()
}

/// The voice (by index) whose centroid is nearest to `e`, with its cosine.
fn nearest(sums: &[Vec<f32>], e: &[f32]) -> Option<(usize, f32)> {
    sums.iter()
        .enumerate()
        .map(|(k, c)| (k, dot(&unit(c), e)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn centroid<'a>(embeddings: impl Iterator<Item = &'a [f32]>) -> Vec<f32> {
    mean_direction(embeddings).unwrap_or_default()
}

/// The unit centroids of each label in use, by label.
fn centroids(windows: &[Window], labels: &[usize]) -> Vec<(usize, Vec<f32>)> {
    let mut used: Vec<usize> = labels.to_vec();
    used.sort_unstable();
    used.dedup();
    used.into_iter()
        .map(|k| {
            let of_k = windows.iter().zip(labels).filter(|(_, l)| **l == k);
            (k, centroid(of_k.map(|(w, _)| &w.embedding[..])))
        })
        .collect()
}

/// Merges alike voices, folds short ones into their nearest, and moves every window to its
/// nearest remaining voice, [`ROUNDS`] times.
fn refine(windows: &[Window], mut labels: Vec<usize>) -> Vec<usize> {
    for _ in 0..ROUNDS {
        // Merge the closest pair while it is close enough.
        loop {
            let c = centroids(windows, &labels);
            let closest = (0..c.len())
                .flat_map(|i| (i + 1..c.len()).map(move |j| (i, j)))
                .map(|(i, j)| (c[i].0, c[j].0, dot(&c[i].1, &c[j].1)))
                .max_by(|a, b| a.2.total_cmp(&b.2));
            match closest {
                Some((keep, gone, s)) if s >= MERGE => labels
                    .iter_mut()
                    .filter(|l| **l == gone)
                    .for_each(|l| *l = keep),
                _ => break,
            }
        }
        let c = centroids(windows, &labels);
        let size = |k: usize| labels.iter().filter(|l| **l == k).count();
        let mut kept: Vec<&(usize, Vec<f32>)> =
            c.iter().filter(|(k, _)| size(*k) >= MIN_WINDOWS).collect();
        if kept.is_empty() {
            kept = c.iter().collect();
        }
        labels = windows
            .iter()
            .map(|w| {
                kept.iter()
                    .max_by(|a, b| dot(&a.1, &w.embedding).total_cmp(&dot(&b.1, &w.embedding)))
                    .map(|(k, _)| *k)
                    .expect("at least one voice")
            })
            .collect();
    }
    labels
}

/// A single window of one voice between two of another is the other's (a window straddling
/// a cough, a laugh, two voices at once).
fn smooth(mut labels: Vec<usize>) -> Vec<usize> {
    for i in 1..labels.len().saturating_sub(1) {
        if labels[i - 1] == labels[i + 1] && labels[i] != labels[i - 1] {
            labels[i] = labels[i - 1];
        }
    }
    labels
}

/// Labels renumbered 0, 1, ... in the order they first occur.
fn numbered(labels: Vec<usize>) -> Vec<usize> {
    let mut order: Vec<usize> = Vec::new();
    labels
        .into_iter()
        .map(|l| match order.iter().position(|&o| o == l) {
            Some(i) => i,
            None => {
                order.push(l);
                order.len() - 1
            }
        })
        .collect()
}

/// Speaker `s`'s turns: each window owns the time from halfway to its neighbours' middles
/// (windows overlap), so a change falls between the last window of one voice and the first of
/// the next; a window with no neighbour owns up to its own edge.
fn turns(windows: &[Window], labels: &[usize], s: usize) -> Vec<(f64, f64)> {
    let mid = |w: &Window| (w.start + w.end) / 2.0;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        if labels[i] != s {
            continue;
        }
        let touching = |o: &Window| o.start < w.end && w.start < o.end;
        let start = match i.checked_sub(1).map(|p| &windows[p]) {
            Some(p) if touching(p) => ((mid(p) + mid(w)) / 2.0).max(w.start),
            _ => w.start,
        };
        let end = match windows.get(i + 1) {
            Some(n) if touching(n) => ((mid(w) + mid(n)) / 2.0).min(w.end),
            _ => w.end,
        };
        match out.last_mut() {
            Some(last) if start - last.1 <= SAME_TURN => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window at `start` of voice `axis` (a unit vector along it, nudged by `noise`).
    fn window(start: f64, axis: usize, noise: f32) -> Window {
        let mut e = vec![0.0f32; 8];
        e[axis] = 1.0;
        e[(axis + 1) % 8] = noise;
        Window {
            start,
            end: start + 1.6,
            embedding: unit(&e),
        }
    }

    /// Windows every 0.77 s from `from` for `n` windows of voice `axis`.
    fn run(from: f64, n: usize, axis: usize) -> Vec<Window> {
        (0..n)
            .map(|i| window(from + i as f64 * 0.77, axis, 0.1 * (i % 3) as f32))
            .collect()
    }

    #[test]
    fn two_voices_taking_turns_are_two_speakers_with_their_turns() {
        let mut w = run(0.0, 8, 0);
        w.extend(run(8.0, 6, 3));
        w.extend(run(14.0, 8, 0));
        let voices = diarize(&w);
        assert_eq!(voices.len(), 2, "{voices:?}");
        assert_eq!(voices[0].speaker, 1);
        assert_eq!(voices[0].turns.len(), 2);
        assert_eq!(voices[1].turns.len(), 1);
        let (a, b) = voices[1].turns[0];
        assert!((a - 8.0).abs() < 0.01 && (b - (8.0 + 5.0 * 0.77 + 1.6)).abs() < 0.01);
        assert!(dot(&voices[0].embedding, &voices[1].embedding) < 0.2);
        assert!(voices[0].seconds > voices[1].seconds);
    }

    #[test]
    fn one_voice_is_one_speaker_and_one_turn_across_short_pauses() {
        let mut w = run(0.0, 6, 2);
        w.extend(run(6.0, 6, 2));
        let voices = diarize(&w);
        assert_eq!(voices.len(), 1);
        assert_eq!(voices[0].turns, vec![(0.0, 6.0 + 5.0 * 0.77 + 1.6)]);
    }

    #[test]
    fn a_changing_window_is_smoothed_and_a_short_voice_folded() {
        // A lone odd window inside one voice's speech, then two windows of a third voice.
        let mut w = run(0.0, 5, 0);
        w.push(window(5.0 * 0.77, 4, 0.0));
        w.extend(run(6.0 * 0.77, 5, 0));
        w.extend(run(20.0, 2, 6));
        let voices = diarize(&w);
        assert_eq!(voices.len(), 1, "{voices:?}");
    }

    #[test]
    fn a_change_between_overlapping_windows_falls_between_their_middles() {
        let mut w = run(0.0, 4, 0);
        w.extend(run(4.0 * 0.77, 4, 5));
        let voices = diarize(&w);
        let change = voices[0].turns[0].1;
        // The last window of voice 1 starts at 2.31, the first of voice 2 at 3.08.
        assert!(
            (change - (2.31 + 3.08 + 1.6) / 2.0).abs() < 0.01,
            "{change}"
        );
        assert_eq!(voices[1].turns[0].0, change);
    }
}
