//! Packed RGB8 pixels as the models receive them: decoded once upstream, borrowed here.

pub use fast_image_resize::FilterType;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{ModelError, Result};

/// A borrowed RGB8 image, rows packed without padding.
#[derive(Clone, Copy, Debug)]
pub struct RgbView<'a> {
    pub width: u32,
    pub height: u32,
    pub data: &'a [u8],
}

/// An owned RGB8 image.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl RgbImage {
    pub fn view(&self) -> RgbView<'_> {
        RgbView {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// A rectangle in pixels of some image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn from_corners(x1: f32, y1: f32, x2: f32, y2: f32) -> Rect {
        Rect {
            x: x1,
            y: y1,
            w: (x2 - x1).max(0.0),
            h: (y2 - y1).max(0.0),
        }
    }

    pub fn area(&self) -> f32 {
        self.w * self.h
    }

    pub fn iou(&self, o: &Rect) -> f32 {
        let x1 = self.x.max(o.x);
        let y1 = self.y.max(o.y);
        let x2 = (self.x + self.w).min(o.x + o.w);
        let y2 = (self.y + self.h).min(o.y + o.h);
        let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
        let union = self.area() + o.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Clamped to an image of `width` x `height`.
    pub fn clamp(&self, width: u32, height: u32) -> Rect {
        let (w, h) = (width as f32, height as f32);
        let x1 = self.x.clamp(0.0, w);
        let y1 = self.y.clamp(0.0, h);
        let x2 = (self.x + self.w).clamp(0.0, w);
        let y2 = (self.y + self.h).clamp(0.0, h);
        Rect::from_corners(x1, y1, x2, y2)
    }
}

impl<'a> RgbView<'a> {
    pub fn new(width: u32, height: u32, data: &'a [u8]) -> Result<Self> {
        let v = RgbView {
            width,
            height,
            data,
        };
        v.check()?;
        Ok(v)
    }

    pub fn check(&self) -> Result<()> {
        if self.width == 0 || self.height == 0 {
            return Err(ModelError::BadInput(format!(
                "empty image {}x{}",
                self.width, self.height
            )));
        }
        let need = self.width as usize * self.height as usize * 3;
        if self.data.len() != need {
            return Err(ModelError::BadInput(format!(
                "{}x{} RGB image needs {need} bytes, got {}",
                self.width,
                self.height,
                self.data.len()
            )));
        }
        Ok(())
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Bilinear resize of the whole image (or of `crop` of it) to `width` x `height`,
    /// ignoring aspect ratio. Convolution-based, as Pillow's bilinear.
    pub fn resize(&self, width: u32, height: u32, crop: Option<Rect>) -> Result<RgbImage> {
        self.resize_with(FilterType::Bilinear, width, height, crop)
    }

    /// As [`RgbView::resize`] with another filter (CatmullRom is bicubic).
    pub fn resize_with(
        &self,
        filter: FilterType,
        width: u32,
        height: u32,
        crop: Option<Rect>,
    ) -> Result<RgbImage> {
        self.check()?;
        let (width, height) = (width.max(1), height.max(1));
        let src = ImageRef::new(self.width, self.height, self.data, PixelType::U8x3)
            .map_err(|e| ModelError::BadInput(e.to_string()))?;
        let mut dst = Image::new(width, height, PixelType::U8x3);
        let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter));
        if let Some(c) = crop {
            let c = c.clamp(self.width, self.height);
            if c.w < 1.0 || c.h < 1.0 {
                return Err(ModelError::BadInput(format!("crop {c:?} is empty")));
            }
            options = options.crop(c.x as f64, c.y as f64, c.w as f64, c.h as f64);
        }
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| ModelError::BadInput(e.to_string()))?;
        Ok(RgbImage {
            width,
            height,
            data: dst.into_vec(),
        })
    }

    /// Scaled down (never up) so that the longer side is at most `max_side`.
    pub fn limit(&self, max_side: u32) -> Result<Option<RgbImage>> {
        let long = self.width.max(self.height);
        if long <= max_side {
            return Ok(None);
        }
        let s = max_side as f32 / long as f32;
        let w = ((self.width as f32 * s).round() as u32).max(1);
        let h = ((self.height as f32 * s).round() as u32).max(1);
        self.resize(w, h, None).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_checks_sizes_and_keeps_flat_colours() {
        let data = vec![200u8; 4 * 3 * 3];
        let v = RgbView::new(4, 3, &data).unwrap();
        let r = v.resize(2, 2, None).unwrap();
        assert_eq!((r.width, r.height), (2, 2));
        assert!(r.data.iter().all(|&p| p == 200));
        assert!(RgbView::new(4, 4, &data).is_err());
        assert!(RgbView::new(0, 3, &[]).is_err());
        let one = RgbView::new(1, 1, &[1, 2, 3]).unwrap();
        assert_eq!(one.resize(3, 3, None).unwrap().data[..3], [1, 2, 3]);
    }

    #[test]
    fn iou_of_boxes() {
        let a = Rect {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        let b = Rect {
            x: 5.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(
            a.iou(&Rect {
                x: 20.0,
                y: 20.0,
                w: 1.0,
                h: 1.0
            }),
            0.0
        );
    }
}
