//! Geometry for OCR's text detection: connected regions of the probability map, their
//! minimum-area rotated rectangles, scoring, growing and cropping (what RapidOCR does with
//! OpenCV, in plain Rust).

pub type Pt = [f32; 2];

/// A binary mask's 8-connected regions, each as (row -> min x, max x) extents of its pixels.
pub fn regions(mask: &[bool], w: usize, h: usize) -> Vec<Vec<(usize, usize, usize)>> {
    let mut label = vec![u32::MAX; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] || label[start] != u32::MAX {
            continue;
        }
        let id = out.len() as u32;
        let mut rows: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
        label[start] = id;
        stack.push(start);
        while let Some(p) = stack.pop() {
            let (x, y) = (p % w, p / w);
            let e = rows.entry(y).or_insert((x, x));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let q = ny as usize * w + nx as usize;
                    if mask[q] && label[q] == u32::MAX {
                        label[q] = id;
                        stack.push(q);
                    }
                }
            }
        }
        out.push(rows.into_iter().map(|(y, (a, b))| (y, a, b)).collect());
    }
    out
}

fn cross(o: Pt, a: Pt, b: Pt) -> f32 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Convex hull (Andrew's monotone chain), counter-clockwise.
pub fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<Pt> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<Pt> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// A rotated rectangle: centre, side lengths along `axis` and its normal, and that axis.
#[derive(Clone, Copy, Debug)]
pub struct RotRect {
    pub center: Pt,
    pub w: f32,
    pub h: f32,
    pub axis: Pt,
}

impl RotRect {
    pub fn short_side(&self) -> f32 {
        self.w.min(self.h)
    }

    /// Grown by `d` on every side.
    pub fn grow(&self, d: f32) -> RotRect {
        RotRect {
            w: self.w + 2.0 * d,
            h: self.h + 2.0 * d,
            ..*self
        }
    }

    /// Corners ordered top-left, top-right, bottom-right, bottom-left (RapidOCR's order:
    /// the two leftmost by y give top-left and bottom-left, the two rightmost the others).
    pub fn corners(&self) -> [Pt; 4] {
        let [ax, ay] = self.axis;
        let (nx, ny) = (-ay, ax);
        let (hw, hh) = (self.w / 2.0, self.h / 2.0);
        let c = self.center;
        let mut p = [
            [c[0] - ax * hw - nx * hh, c[1] - ay * hw - ny * hh],
            [c[0] + ax * hw - nx * hh, c[1] + ay * hw - ny * hh],
            [c[0] + ax * hw + nx * hh, c[1] + ay * hw + ny * hh],
            [c[0] - ax * hw + nx * hh, c[1] - ay * hw + ny * hh],
        ];
        p.sort_by(|a, b| a[0].total_cmp(&b[0]));
        let (l, r) = p.split_at_mut(2);
        l.sort_by(|a, b| a[1].total_cmp(&b[1]));
        r.sort_by(|a, b| a[1].total_cmp(&b[1]));
        [l[0], r[0], r[1], l[1]]
    }
}

/// Minimum-area enclosing rectangle of points (rotating calipers over the hull's edges).
pub fn min_area_rect(points: Vec<Pt>) -> Option<RotRect> {
    let hull = convex_hull(points);
    match hull.len() {
        0 => return None,
        1 => {
            return Some(RotRect {
                center: hull[0],
                w: 0.0,
                h: 0.0,
                axis: [1.0, 0.0],
            });
        }
        _ => {}
    }
    let mut best: Option<(f32, RotRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if len == 0.0 {
            continue;
        }
        let axis = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
        let normal = [-axis[1], axis[0]];
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p[0] * axis[0] + p[1] * axis[1];
            let v = p[0] * normal[0] + p[1] * normal[1];
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            let center = [axis[0] * cu + normal[0] * cv, axis[1] * cu + normal[1] * cv];
            // Keep the axis pointing right-ish so that w is the horizontal extent.
            let (axis, w, h) = if axis[0].abs() >= axis[1].abs() {
                (
                    if axis[0] < 0.0 {
                        [-axis[0], -axis[1]]
                    } else {
                        axis
                    },
                    u1 - u0,
                    v1 - v0,
                )
            } else {
                let n = if normal[0] < 0.0 {
                    [-normal[0], -normal[1]]
                } else {
                    normal
                };
                (n, v1 - v0, u1 - u0)
            };
            best = Some((area, RotRect { center, w, h, axis }));
        }
    }
    best.map(|(_, r)| r)
}

fn inside_convex(quad: &[Pt; 4], p: Pt) -> bool {
    let mut sign = 0.0f32;
    for i in 0..4 {
        let c = cross(quad[i], quad[(i + 1) % 4], p);
        if c != 0.0 {
            if sign != 0.0 && c.signum() != sign {
                return false;
            }
            sign = c.signum();
        }
    }
    true
}

/// Mean of `map` over the pixels inside `quad` (pixel centres at integer coordinates).
pub fn mean_inside(map: &[f32], w: usize, h: usize, quad: &[Pt; 4]) -> f32 {
    let xs = quad.iter().map(|p| p[0]);
    let ys = quad.iter().map(|p| p[1]);
    let x0 = xs.clone().fold(f32::MAX, f32::min).floor().max(0.0) as usize;
    let x1 = (xs.fold(f32::MIN, f32::max).ceil() as usize).min(w - 1);
    let y0 = ys.clone().fold(f32::MAX, f32::min).floor().max(0.0) as usize;
    let y1 = (ys.fold(f32::MIN, f32::max).ceil() as usize).min(h - 1);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside_convex(quad, [x as f32, y as f32]) {
                sum += map[y * w + x] as f64;
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_8_connected() {
        #[rustfmt::skip]
        let m = [
            true, false, false, true,
            false, true, false, true,
            false, false, false, false,
        ];
        let r = regions(&m, 4, 3);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], vec![(0, 0, 0), (1, 1, 1)]);
    }

    #[test]
    fn min_area_rect_of_a_rotated_box() {
        // A 10x2 rectangle rotated by 30 degrees.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let pts: Vec<Pt> = [[-5.0, -1.0], [5.0, -1.0], [5.0, 1.0], [-5.0, 1.0]]
            .iter()
            .map(|[x, y]| [x * c - y * s + 20.0, x * s + y * c + 20.0])
            .collect();
        let r = min_area_rect(pts).unwrap();
        assert!(
            (r.w - 10.0).abs() < 1e-3 && (r.h - 2.0).abs() < 1e-3,
            "{r:?}"
        );
        assert!((r.center[0] - 20.0).abs() < 1e-3);
        let q = r.corners();
        assert!(q[0][0] < q[1][0] && q[3][1] > q[0][1]);
        let map = vec![1.0f32; 40 * 40];
        assert_eq!(mean_inside(&map, 40, 40, &q), 1.0);
    }
}
