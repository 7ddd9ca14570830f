//! Standing pictures upright: EXIF orientation (JPEG, TIFF, PNG, WebP) and a video stream's
//! display matrix (phones store portrait video sideways and say how to turn it), both as one of
//! the eight EXIF orientations, applied by [`orient`].

use vx_models::RgbImage;

/// The EXIF orientation (1-8) of a picture, when its EXIF says one.
pub fn exif_orientation(exif: &exif::Exif) -> Option<u32> {
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)
        .filter(|o| (1..=8).contains(o))
}

/// The EXIF orientation that shows a video as its display matrix says (a 3x3 matrix of 16.16
/// and 2.30 fixed-point numbers, as FFmpeg gives it), read the way FFmpeg's own autorotation
/// reads it. A matrix that is not a multiple of 90 degrees, mirrored or not, is an error.
pub fn display_matrix_orientation(m: &[i32; 9]) -> Result<u32, String> {
    let fp = |v: i32| v as f64 / 65536.0;
    let (scale0, scale1) = (fp(m[0]).hypot(fp(m[3])), fp(m[1]).hypot(fp(m[4])));
    if scale0 == 0.0 || scale1 == 0.0 || !scale0.is_finite() || !scale1.is_finite() {
        return Err(format!("display matrix {m:?} is not a rotation"));
    }
    // The clockwise turn that shows the picture, in degrees in [0, 360).
    let turn = (fp(m[1]) / scale1).atan2(fp(m[0]) / scale0).to_degrees();
    let mut theta = turn.round();
    theta -= 360.0 * (theta / 360.0 + 0.9 / 360.0).floor();
    let near = |a: f64| (theta - a).abs() < 1.0;
    Ok(if near(90.0) {
        if m[3] > 0 { 5 } else { 6 }
    } else if near(180.0) {
        match (m[0] < 0, m[4] < 0) {
            (true, true) => 3,
            (true, false) => 2,
            (false, true) => 4,
            (false, false) => 1,
        }
    } else if near(270.0) {
        if m[3] < 0 { 7 } else { 8 }
    } else if near(0.0) || near(360.0) {
        if m[4] < 0 { 4 } else { 1 }
    } else {
        return Err(format!(
            "display matrix turns the picture by {theta} degrees, not a multiple of 90"
        ));
    })
}

/// Applies an EXIF orientation (1-8) so that the picture stands as the camera saw it.
pub fn orient(img: RgbImage, o: u32) -> RgbImage {
    if !(2..=8).contains(&o) {
        return img;
    }
    let (w, h) = (img.width as usize, img.height as usize);
    let swap = o >= 5;
    let (nw, nh) = if swap { (h, w) } else { (w, h) };
    let mut out = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            // Destination of source pixel (x, y) for each orientation.
            let (dx, dy) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (h - 1 - y, x),
                7 => (h - 1 - y, w - 1 - x),
                _ => (y, w - 1 - x), // 8
            };
            let s = (y * w + x) * 3;
            let d = (dy * nw + dx) * 3;
            out[d..d + 3].copy_from_slice(&img.data[s..s + 3]);
        }
    }
    RgbImage {
        width: nw as u32,
        height: nh as u32,
        data: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFmpeg's av_display_rotation_set (a clockwise turn by `degrees`), then
    /// av_display_matrix_flip.
    fn matrix(degrees: f64, hflip: bool, vflip: bool) -> [i32; 9] {
        let r = -degrees.to_radians();
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        let mut m = [0i32; 9];
        m[0] = fixed(r.cos());
        m[1] = fixed(-r.sin());
        m[3] = fixed(r.sin());
        m[4] = fixed(r.cos());
        m[8] = 1 << 30;
        for (i, v) in m.iter_mut().enumerate() {
            if hflip && i % 3 == 0 || vflip && i % 3 == 1 {
                *v = -*v;
            }
        }
        m
    }

    #[test]
    fn display_matrices_become_orientations() {
        // A matrix that turns the picture clockwise by 90 degrees is orientation 6.
        assert_eq!(
            display_matrix_orientation(&matrix(0.0, false, false)),
            Ok(1)
        );
        assert_eq!(
            display_matrix_orientation(&matrix(90.0, false, false)),
            Ok(6)
        );
        assert_eq!(
            display_matrix_orientation(&matrix(180.0, false, false)),
            Ok(3)
        );
        assert_eq!(
            display_matrix_orientation(&matrix(-90.0, false, false)),
            Ok(8)
        );
        assert_eq!(display_matrix_orientation(&matrix(0.0, true, false)), Ok(2));
        assert_eq!(display_matrix_orientation(&matrix(0.0, false, true)), Ok(4));
        assert_eq!(
            display_matrix_orientation(&matrix(90.0, true, false)),
            Ok(5)
        );
        assert_eq!(
            display_matrix_orientation(&matrix(-90.0, true, false)),
            Ok(7)
        );
        assert!(display_matrix_orientation(&matrix(30.0, false, false)).is_err());
        assert!(display_matrix_orientation(&[0; 9]).is_err());
    }

    #[test]
    fn orientations_move_the_corner_where_it_belongs() {
        // 2x1: a red pixel at the left, then black.
        let img = RgbImage {
            width: 2,
            height: 1,
            data: vec![255, 0, 0, 0, 0, 0],
        };
        let turned = orient(img.clone(), 6);
        assert_eq!((turned.width, turned.height), (1, 2));
        assert_eq!(&turned.data[..3], &[255, 0, 0], "left goes to the top");
        let back = orient(img.clone(), 8);
        assert_eq!(&back.data[3..], &[255, 0, 0], "left goes to the bottom");
        assert_eq!(orient(img.clone(), 1).data, img.data);
    }
}
