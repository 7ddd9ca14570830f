//! Near-duplicate pictures among results (a burst, a photo and its edited or blurred copy): the
//! sharpest of them (then the best by BRISQUE) moves up to the best place the group holds, so a
//! list does not lead with the shaky shot when a sharp one is there. A group that a search
//! found by how its pictures look ("blurry", "dark") keeps its order: that query asked for it.

use vx_models::quality::near;

/// What is known of one result.
#[derive(Clone, Debug)]
pub struct Look {
    /// `vx_models::quality::fingerprint`.
    pub fingerprint: u64,
    pub sharpness: f64,
    /// 100 - BRISQUE (0 where not scored).
    pub quality: f64,
    /// Search found it by its quality words.
    pub by_its_looks: bool,
}

/// The order in which to show results given in rank order with their looks (None where
/// unknown: not a picture, not measured): each group of near-duplicates keeps its places,
/// filled sharpest first, unless it was found by its looks; everything else stays where it is.
pub fn sharpest_first(items: &[Option<Look>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut grouped = vec![false; items.len()];
    for first in 0..items.len() {
        let Some(lead) = items[first].as_ref().filter(|_| !grouped[first]) else {
            continue;
        };
        let places: Vec<usize> = (first..items.len())
            .filter(|&i| {
                !grouped[i]
                    && items[i]
                        .as_ref()
                        .is_some_and(|l| near(lead.fingerprint, l.fingerprint))
            })
            .collect();
        places.iter().for_each(|&i| grouped[i] = true);
        let look = |i: usize| items[i].as_ref().expect("near the lead");
        if places.iter().any(|&i| look(i).by_its_looks) {
            continue;
        }
        let mut members = places.clone();
        members.sort_by(|&a, &b| {
            let key = |i: usize| (look(i).sharpness, look(i).quality);
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for (place, member) in places.into_iter().zip(members) {
            order[place] = member;
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(fingerprint: u64, sharpness: f64, quality: f64) -> Option<Look> {
        Some(Look {
            fingerprint,
            sharpness,
            quality,
            by_its_looks: false,
        })
    }

    #[test]
    fn the_sharpest_of_near_duplicates_comes_first_and_the_rest_stay() {
        let photo = 0xF0F0_1234_5678_9ABC_u64;
        let items = [
            look(photo ^ 0b101, 20.0, 30.0), // a blurred copy, ranked first
            None,                            // a recording
            look(!photo, 90.0, 80.0),        // another picture
            look(photo ^ 0b10, 100.0, 60.0), // an overexposed copy, as sharp
            look(photo, 100.0, 85.0),        // the original
            look(photo ^ 0b1, 60.0, 70.0),   // a slightly soft copy
        ];
        assert_eq!(sharpest_first(&items), [4, 1, 2, 3, 5, 0]);
        // Nothing near anything: the order stands.
        assert_eq!(sharpest_first(&items[1..3]), [0, 1]);
        assert!(sharpest_first(&[]).is_empty());
    }

    #[test]
    fn copies_found_by_how_they_look_keep_their_order() {
        let photo = 0x0123_4567_89AB_CDEF_u64;
        // "blurry": the blurred copy found by its quality words, then the sharp one.
        let mut blurred = look(photo ^ 0b11, 20.0, 30.0);
        blurred.as_mut().unwrap().by_its_looks = true;
        assert_eq!(sharpest_first(&[blurred, look(photo, 90.0, 80.0)]), [0, 1]);
    }
}
