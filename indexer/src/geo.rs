//! Where a photo or video was taken: coordinates from EXIF GPS tags or from a video container's
//! ISO 6709 location, and the places they name, found offline in GeoNames' table of populated
//! places (the reverse_geocoder crate) with country names from ISO 3166 (celes). No network.

use std::sync::OnceLock;

use celes::LookupTable;
use reverse_geocoder::ReverseGeocoder;

/// Places within this distance of a point name it (a photo at the Eiffel Tower is nearest to
/// Neuilly-sur-Seine's centre, but also in Paris).
const NEARBY_KM: f64 = 10.0;
/// A point further than this from any populated place (at sea, in a desert) gets its region
/// and country only when they are this near, else no place at all.
const REGION_KM: f64 = 150.0;

/// Latitude and longitude in degrees, when both are real coordinates.
pub fn checked(lat: f64, lon: f64) -> Option<(f64, f64)> {
    let ok = lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0;
    // 0,0 is what a GPS without a fix writes.
    (ok && (lat, lon) != (0.0, 0.0)).then_some((lat, lon))
}

/// The GPS position in a picture's EXIF.
pub fn exif_coordinates(exif: &exif::Exif) -> Option<(f64, f64)> {
    let angle = |tag, reference, negative: &[u8]| -> Option<f64> {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Rational(ref parts) = field.value else {
            return None;
        };
        let [d, m, s] = parts.get(..3)? else {
            return None;
        };
        let v = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let sign = match exif
            .get_field(reference, exif::In::PRIMARY)
            .map(|f| &f.value)
        {
            Some(exif::Value::Ascii(r)) if r.first().is_some_and(|r| r.starts_with(negative)) => {
                -1.0
            }
            _ => 1.0,
        };
        Some(sign * v)
    };
    checked(
        angle(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, b"S")?,
        angle(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, b"W")?,
    )
}

/// An ISO 6709 point as video containers store it ("+41.8902+012.4922+030.000/"): signed
/// decimal degrees of latitude then longitude, an optional altitude.
pub fn iso6709(s: &str) -> Option<(f64, f64)> {
    let s = s.trim().trim_end_matches('/');
    let split = |s: &str| -> Option<(f64, usize)> {
        let end = s[1..].find(['+', '-']).map_or(s.len(), |i| i + 1);
        Some((s.get(..end)?.parse().ok()?, end))
    };
    if !s.starts_with(['+', '-']) {
        return None;
    }
    let (lat, n) = split(s)?;
    let rest = s.get(n..)?;
    if !rest.starts_with(['+', '-']) {
        return None;
    }
    let (lon, _) = split(rest)?;
    checked(lat, lon)
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

fn geocoder() -> &'static ReverseGeocoder {
    static GEOCODER: OnceLock<ReverseGeocoder> = OnceLock::new();
    GEOCODER.get_or_init(ReverseGeocoder::new)
}

/// The places a point is in, for people to read and for search to find.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// "Rome, Latium, Italy".
    pub name: String,
    /// Every word search should find it by: the place and the places near it, region, district,
    /// country by its names and codes.
    pub terms: String,
}

/// A country's names: its ISO name, its aliases, and its codes.
fn country_names(cc: &str) -> (String, Vec<String>) {
    let Ok(c) = celes::Country::from_alpha2(cc) else {
        return (cc.to_string(), vec![cc.to_string()]);
    };
    let name = c.long_name.trim_start_matches("The ").to_string();
    let mut names = vec![name.clone(), c.alpha2.to_string(), c.alpha3.to_string()];
    // Aliases are written without spaces ("UnitedStates").
    names.extend(c.aliases.iter().map(|a| {
        let mut spaced = String::new();
        for ch in a.chars() {
            if ch.is_uppercase() && !spaced.is_empty() {
                spaced.push(' ');
            }
            spaced.push(ch);
        }
        spaced
    }));
    (name, names)
}

/// The place at a point, or None far from any.
pub fn place_at(lat: f64, lon: f64) -> Option<Place> {
    let g = geocoder();
    let nearest = g.search((lat, lon)).record;
    let km = distance_km((lat, lon), (nearest.lat, nearest.lon));
    if km > REGION_KM {
        return None;
    }
    let (country, country_terms) = country_names(&nearest.cc);
    let mut parts = Vec::new();
    let mut terms: Vec<String> = Vec::new();
    if km <= NEARBY_KM {
        parts.push(nearest.name.clone());
        // The places around: the nearest place seen from points a few kilometres away.
        for ring in [NEARBY_KM / 2.0, NEARBY_KM] {
            for step in 0..8 {
                let bearing = (step as f64 * 45.0).to_radians();
                let dlat = ring / 111.0 * bearing.cos();
                let dlon = ring / (111.0 * lat.to_radians().cos().max(0.01)) * bearing.sin();
                let r = g.search((lat + dlat, lon + dlon)).record;
                if distance_km((lat, lon), (r.lat, r.lon)) <= NEARBY_KM && !terms.contains(&r.name)
                {
                    terms.push(r.name.clone());
                }
            }
        }
    }
    parts.extend(
        [nearest.admin1.clone(), country]
            .into_iter()
            .filter(|p| !p.is_empty()),
    );
    parts.dedup();
    terms.extend(parts.iter().cloned());
    terms.push(nearest.admin2.clone());
    terms.extend(country_terms);
    terms.retain(|t| !t.is_empty());
    terms.dedup();
    Some(Place {
        name: parts.join(", "),
        terms: terms.join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_read_and_checked() {
        assert_eq!(
            iso6709("+41.8902+012.4922+030.000/"),
            Some((41.8902, 12.4922))
        );
        assert_eq!(iso6709("-33.8568+151.2153/"), Some((-33.8568, 151.2153)));
        assert_eq!(iso6709("+91.0000+012.0000/"), None);
        assert_eq!(iso6709("+00.0000+000.0000/"), None);
        assert_eq!(iso6709("garbage"), None);
        assert_eq!(iso6709("+41.89"), None);
        assert_eq!(checked(f64::NAN, 1.0), None);
        assert_eq!(checked(10.0, 181.0), None);
        assert!((distance_km((41.8902, 12.4922), (48.8584, 2.2945)) - 1106.0).abs() < 5.0);
    }

    #[test]
    fn points_name_their_places() {
        let rome = place_at(41.8902, 12.4922).unwrap();
        assert_eq!(rome.name, "Rome, Latium, Italy");
        assert!(rome.terms.contains("ITA"), "{rome:?}");
        let eiffel = place_at(48.8584, 2.2945).unwrap();
        assert!(eiffel.terms.contains("Paris"), "{eiffel:?}");
        assert!(eiffel.name.ends_with("France"), "{eiffel:?}");
        let us = place_at(40.7831, -73.9712).unwrap();
        assert!(
            us.terms.contains("United States") && us.terms.contains("USA"),
            "{us:?}"
        );
        // Mid-Atlantic: nothing.
        assert_eq!(place_at(30.0, -40.0), None);
    }
}
