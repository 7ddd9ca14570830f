//! Splits words that text recognition ran together: PP-OCR often drops the spaces between
//! English words ("Quarterlybudgetreview", "histogram ofgreyvalues"), and a search for "budget"
//! must still find the line. A run of letters that is not a word is split into the fewest
//! dictionary words that spell it exactly, or left alone when no such split exists.

use std::collections::HashSet;
use std::sync::OnceLock;

/// English words (scripts/make-wordlist.py): the MiniLM vocabulary's whole words and WordNet.
const WORDS: &str = include_str!("../data/words.txt");
/// Shorter runs are left alone: they are words, abbreviations or codes.
const MIN_RUN: usize = 6;
/// The longest dictionary word considered (longer runs are split into shorter words).
const MAX_WORD: usize = 24;

fn dictionary() -> &'static HashSet<&'static str> {
    static WORDS_SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    WORDS_SET.get_or_init(|| WORDS.lines().collect())
}

/// The fewest dictionary words that spell `run` (lower-case ASCII letters), if any.
fn split_run(run: &str) -> Option<Vec<&str>> {
    let dict = dictionary();
    let n = run.len();
    // best[i]: (words, start of the last word) of the best split of run[..i].
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for end in 1..=n {
        for start in end.saturating_sub(MAX_WORD)..end {
            let Some((words, _)) = best[start] else {
                continue;
            };
            if dict.contains(&run[start..end]) && best[end].is_none_or(|(w, _)| words + 1 < w) {
                best[end] = Some((words + 1, start));
            }
        }
    }
    let mut pieces = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        pieces.push(&run[start..end]);
        end = start;
    }
    pieces.reverse();
    Some(pieces)
}

/// Whether a line that was read holds anything a person could search for: a dictionary word of
/// three letters or more, a longer run of letters (a name), or a number of two digits or more.
/// Text recognition finds strokes in every picture ("O" on a cup's rim, "8", "?", "lI"): such
/// lines are kept for `vx show` but neither indexed nor embedded, since the embedding of a
/// stray letter is a little like everything.
pub fn reads_as_words(line: &str) -> bool {
    const NAME: usize = 5;
    line.split(|c: char| !c.is_alphanumeric()).any(|token| {
        let digits = token.chars().filter(char::is_ascii_digit).count();
        let letters = token.chars().count() - digits;
        if digits == 0 && letters >= NAME {
            return token.chars().any(|c| "aeiouyAEIOUY".contains(c));
        }
        (digits >= 2 && letters == 0)
            || (digits == 0 && letters >= 3 && dictionary().contains(token.to_lowercase().as_str()))
    })
}

/// `line` with its run-together words spaced out and lower-cased, or None when it has none.
pub fn respace(line: &str) -> Option<String> {
    let dict = dictionary();
    let mut out = String::with_capacity(line.len() + 8);
    let mut changed = false;
    let mut rest = line;
    while !rest.is_empty() {
        let letters = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        if letters == 0 {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let run = rest[..letters].to_ascii_lowercase();
        let split = (run.len() >= MIN_RUN && !dict.contains(run.as_str()))
            .then(|| split_run(&run))
            .flatten()
            .filter(|p| p.len() > 1);
        match split {
            Some(pieces) => {
                out.push_str(&pieces.join(" "));
                changed = true;
            }
            None => out.push_str(&run),
        }
        rest = &rest[letters..];
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{reads_as_words, respace};

    #[test]
    fn run_together_words_are_spaced_out() {
        // What PP-OCR read on page.png and on generated signs.
        assert_eq!(
            respace("Quarterlybudgetreview").as_deref(),
            Some("quarterly budget review")
        );
        assert_eq!(
            respace("Region-basedsegmentation").as_deref(),
            Some("region-based segmentation")
        );
        assert_eq!(
            respace("histogram ofgreyvalues:").as_deref(),
            Some("histogram of grey values:")
        );
        assert_eq!(respace("CORNERGROCERY").as_deref(), Some("corner grocery"));
        assert_eq!(respace("Bananas2.40"), None, "a word and a number");
    }

    #[test]
    fn stray_strokes_are_not_words() {
        for noise in [
            "O", "8", "?", "R", "lI", "Ol", "~ -", "A4", "xq", "lllll", "",
        ] {
            assert!(!reads_as_words(noise), "{noise:?}");
        }
        for line in [
            "EXIT",
            "Region-basedsegmentation",
            "Total 12.50",
            "Dashwood",
            "2024",
            "train to London",
        ] {
            assert!(reads_as_words(line), "{line:?}");
        }
    }

    #[test]
    fn words_names_and_codes_are_left_alone() {
        assert_eq!(respace("Let us first determine markers of the coins"), None);
        assert_eq!(respace("unambiguously"), None);
        assert_eq!(respace("XJ7QPZ-2291"), None);
        assert_eq!(respace("Zxqvbnmlk"), None, "no split spells it");
        assert_eq!(respace(""), None);
        assert_eq!(respace("café ünïcode"), None);
    }
}
