//! Colours: the basic colour names ("orange", "grey", "green") that cover much of a look, as
//! words weighed by the share of the picture they cover, so that "orange evening sky" or
//! "black dog" count the colour a label cannot say.

use vx_models::{ModelError, RgbView};

use super::{Cx, Extractor, Needs, Segments};
use crate::extract::Output;
use crate::media::MediaKind;

/// About this many pixels are sampled per look: colour shares need no more.
const SAMPLES: usize = 4096;
/// A colour is a word of the look from this share of its pixels.
const MIN_SHARE: f32 = 0.15;
/// At most this many colours per look, the widest first.
const MAX_COLOURS: usize = 3;
/// A share this large makes the word certain; smaller ones weigh proportionally less.
const FULL_SHARE: f32 = 0.5;

/// The eleven basic colour terms (Berlin and Kay).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Colour {
    Black,
    White,
    Grey,
    Red,
    Orange,
    Brown,
    Yellow,
    Green,
    Blue,
    Purple,
    Pink,
}

/// Their names, in the enum's order.
const NAMES: [&str; 11] = [
    "black", "white", "grey", "red", "orange", "brown", "yellow", "green", "blue", "purple", "pink",
];

/// The basic colour an sRGB pixel is called, by its hue, saturation and value.
fn name(r: u8, g: u8, b: u8) -> Colour {
    use Colour::*;
    let [r, g, b] = [r, g, b].map(|c| f32::from(c) / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let chroma = max - min;
    if max < 0.2 {
        return Black;
    }
    if chroma < 0.18 * max || chroma < 0.08 {
        return if max > 0.82 { White } else { Grey };
    }
    let hue = if max == r {
        60.0 * ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / chroma + 2.0)
    } else {
        60.0 * ((r - g) / chroma + 4.0)
    };
    match hue {
        // Light, pale reds are pink.
        h if !(12.0..335.0).contains(&h) => {
            if chroma < 0.45 * max && max > 0.7 {
                Pink
            } else {
                Red
            }
        }
        // Dark oranges and yellows are brown.
        h if h < 45.0 => {
            if max < 0.6 {
                Brown
            } else {
                Orange
            }
        }
        h if h < 70.0 => {
            if max < 0.5 {
                Brown
            } else {
                Yellow
            }
        }
        h if h < 165.0 => Green,
        h if h < 255.0 => Blue,
        h if h < 295.0 => Purple,
        _ => Pink,
    }
}

/// The colours covering much of a picture, with their weight.
pub fn colours(img: &RgbView) -> Vec<(String, f32)> {
    let pixels = img.width as usize * img.height as usize;
    if pixels == 0 || img.data.len() < pixels * 3 {
        return Vec::new();
    }
    let step = (pixels / SAMPLES).max(1);
    let mut counts = [0usize; NAMES.len()];
    let mut n = 0usize;
    for p in (0..pixels).step_by(step) {
        let px = &img.data[p * 3..p * 3 + 3];
        counts[name(px[0], px[1], px[2]) as usize] += 1;
        n += 1;
    }
    let mut found: Vec<(String, f32)> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| (i, c as f32 / n as f32))
        .filter(|&(_, share)| share >= MIN_SHARE)
        .map(|(i, share)| (NAMES[i].to_string(), (share / FULL_SHARE).min(1.0)))
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    found.truncate(MAX_COLOURS);
    found
}

pub struct Colours;

impl Extractor for Colours {
    fn name(&self) -> &'static str {
        "colours"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Nothing
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Image, MediaKind::Video]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "colour",
            heading: "colours",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        for (l, look) in input.looks.iter().enumerate() {
            input.segments_at_look(l, self, &colours(look), &mut out.segments);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn called(r: u8, g: u8, b: u8) -> &'static str {
        NAMES[name(r, g, b) as usize]
    }

    #[test]
    fn pixels_get_their_basic_colour_names() {
        assert_eq!(called(10, 10, 12), "black");
        assert_eq!(called(250, 250, 245), "white");
        assert_eq!(called(128, 130, 135), "grey");
        assert_eq!(called(220, 30, 30), "red");
        assert_eq!(called(250, 140, 20), "orange");
        assert_eq!(called(120, 70, 30), "brown");
        assert_eq!(called(240, 220, 40), "yellow");
        assert_eq!(called(40, 160, 60), "green");
        assert_eq!(called(40, 90, 200), "blue");
        assert_eq!(called(120, 40, 170), "purple");
        assert_eq!(called(250, 150, 190), "pink");
    }

    #[test]
    fn colours_covering_much_of_the_picture_are_words() {
        // Top 60 % orange sky, bottom 40 % black ground.
        let (w, h) = (100u32, 100u32);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            let px = if y < 60 { [250, 140, 20] } else { [5, 5, 5] };
            for _ in 0..w {
                data.extend_from_slice(&px);
            }
        }
        let img = RgbView {
            width: w,
            height: h,
            data: &data,
        };
        let found = colours(&img);
        assert_eq!(found[0].0, "orange");
        assert!((found[0].1 - 1.0).abs() < 1e-6);
        assert_eq!(found[1].0, "black");
        assert!((found[1].1 - 0.8).abs() < 0.02);
        assert_eq!(found.len(), 2);
    }
}
