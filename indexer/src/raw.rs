//! Camera RAW (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2, ...), read by LibRaw: the largest
//! embedded JPEG preview when it is at least `MIN_PREVIEW` pixels on its long side (what the
//! camera itself rendered, and ten times faster than demosaicing), else the sensor data
//! demosaiced at half size with the camera's white balance.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use rsraw_sys as sys;
use vx_models::RgbImage;

use crate::decode::{DECODE_OPENS, DecodePolicy, Decoded, fit, jpeg_pixels};
use crate::orientation::{exif_orientation, orient};
use crate::probe::ProbeError;
use crate::store::ContentMeta;

/// The smallest preview worth using: every model works below 1,024 pixels.
pub const MIN_PREVIEW: u32 = 1024;

/// Extensions of camera RAW formats (LibRaw reads all of them).
pub const EXTENSIONS: &[&str] = &[
    "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef", "dng",
    "srw", "x3f", "3fr", "iiq", "erf", "mef", "mos", "kdc", "dcr", "rwl",
];

pub fn is_raw(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// "0.21.4-Release".
pub fn libraw_version() -> String {
    // SAFETY: a static string.
    unsafe { CStr::from_ptr(sys::libraw_version()) }
        .to_string_lossy()
        .into_owned()
}

/// One LibRaw instance over a file's bytes, which it reads in place (hence the borrow).
struct LibRaw<'a> {
    data: NonNull<sys::libraw_data_t>,
    _bytes: PhantomData<&'a [u8]>,
}

fn message(code: i32) -> String {
    // SAFETY: libraw_strerror returns a static string for any code.
    unsafe { CStr::from_ptr(sys::libraw_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

fn damaged(code: i32) -> ProbeError {
    ProbeError::Corrupt(format!("damaged camera RAW (LibRaw: {})", message(code)))
}

fn text(chars: &[libc::c_char]) -> Option<String> {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    let s = String::from_utf8_lossy(&bytes).trim().to_string();
    (!s.is_empty()).then_some(s)
}

impl<'a> LibRaw<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, ProbeError> {
        // SAFETY: libraw_init allocates a fresh instance (null when out of memory).
        let data = NonNull::new(unsafe { sys::libraw_init(0) })
            .ok_or_else(|| ProbeError::Io("LibRaw could not allocate".into()))?;
        let raw = LibRaw {
            data,
            _bytes: PhantomData,
        };
        // LibRaw prints short reads to stderr; the error codes say it, once, to the job.
        unsafe extern "C" fn quiet(_: *mut libc::c_void, _: *const libc::c_char, _: libc::c_int) {}
        // SAFETY: the instance is valid; the handler touches nothing.
        unsafe {
            sys::libraw_set_dataerror_handler(raw.data.as_ptr(), Some(quiet), std::ptr::null_mut())
        };
        // SAFETY: the instance is valid; `bytes` outlives it (the borrow in `LibRaw<'a>`).
        let code = unsafe {
            sys::libraw_open_buffer(raw.data.as_ptr(), bytes.as_ptr().cast(), bytes.len())
        };
        match code {
            0 => Ok(raw),
            sys::LibRaw_errors_LIBRAW_FILE_UNSUPPORTED => Err(ProbeError::NotMedia(format!(
                "LibRaw does not recognise it ({})",
                message(code)
            ))),
            _ => Err(damaged(code)),
        }
    }

    fn data(&self) -> &sys::libraw_data_t {
        // SAFETY: valid from open() to drop; LibRaw writes it only inside calls taking &mut.
        unsafe { self.data.as_ref() }
    }

    /// The sensor's size as the picture stands (LibRaw's flip 5 and 6 turn it a quarter).
    fn upright_size(&self) -> (u32, u32) {
        let s = &self.data().sizes;
        let (w, h) = (s.width as u32, s.height as u32);
        if s.flip & 4 != 0 { (h, w) } else { (w, h) }
    }

    /// The index of the largest JPEG preview with a long side of at least `min` pixels.
    fn preview_index(&self, min: u32) -> Option<i32> {
        let list = &self.data().thumbs_list;
        let count = (list.thumbcount.max(0) as usize).min(list.thumblist.len());
        list.thumblist[..count]
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                t.tformat == sys::LibRaw_internal_thumbnail_formats_LIBRAW_INTERNAL_THUMBNAIL_JPEG
                    && u32::from(t.twidth.max(t.theight)) >= min
            })
            .max_by_key(|(_, t)| u32::from(t.twidth) * u32::from(t.theight))
            .map(|(i, _)| i as i32)
    }

    /// The JPEG bytes of preview `index`.
    fn preview(&mut self, index: i32) -> Result<Vec<u8>, ProbeError> {
        // SAFETY: valid instance; index is below thumbcount.
        let code = unsafe { sys::libraw_unpack_thumb_ex(self.data.as_ptr(), index) };
        if code != 0 {
            return Err(damaged(code));
        }
        let t = &self.data().thumbnail;
        if t.thumb.is_null() {
            return Err(damaged(sys::LibRaw_errors_LIBRAW_NO_THUMBNAIL));
        }
        // SAFETY: LibRaw holds `tlength` bytes at `thumb` until the next unpack or close.
        Ok(
            unsafe { std::slice::from_raw_parts(t.thumb as *const u8, t.tlength as usize) }
                .to_vec(),
        )
    }

    /// The sensor data, demosaiced at half size with the camera's white balance, upright.
    fn demosaic_half(&mut self) -> Result<RgbImage, ProbeError> {
        let p = self.data.as_ptr();
        // SAFETY: valid instance; parameters are plain fields set before unpacking.
        unsafe {
            (*p).params.half_size = 1;
            (*p).params.use_camera_wb = 1;
            (*p).params.output_bps = 8;
            // A bound on what one damaged file can make LibRaw allocate.
            (*p).rawparams.max_raw_memory_mb = 2048;
            let code = sys::libraw_unpack(p);
            if code != 0 {
                return Err(damaged(code));
            }
            let code = sys::libraw_dcraw_process(p);
            if code != 0 {
                return Err(damaged(code));
            }
            let mut code = 0;
            let image = sys::libraw_dcraw_make_mem_image(p, &mut code);
            if image.is_null() || code != 0 {
                return Err(damaged(code));
            }
            let img = &*image;
            let (w, h) = (u32::from(img.width), u32::from(img.height));
            let len = w as usize * h as usize * 3;
            let ok = img.type_ == sys::LibRaw_image_formats_LIBRAW_IMAGE_BITMAP
                && img.colors == 3
                && img.bits == 8
                && img.data_size as usize >= len;
            let data = ok.then(|| std::slice::from_raw_parts(img.data.as_ptr(), len).to_vec());
            sys::libraw_dcraw_clear_mem(image);
            let data = data.ok_or_else(|| {
                ProbeError::Corrupt("damaged camera RAW (LibRaw made no 8-bit RGB picture)".into())
            })?;
            Ok(RgbImage {
                width: w,
                height: h,
                data,
            })
        }
    }

    /// Camera, time and place as LibRaw parsed them: for formats whose EXIF kamadak-exif cannot
    /// find (CR3, RAF, ...).
    fn fill_meta(&self, meta: &mut ContentMeta, path: &Path) {
        let d = self.data();
        let tags = crate::camera::Tags {
            make: text(&d.idata.make),
            model: text(&d.idata.model),
            lens: text(&d.lens.Lens),
            comment: None,
        };
        meta.camera = crate::camera::describe_tags(tags, path);
        // LibRaw read the date as local time; a worker runs in the daemon's zone, and vx
        // reads EXIF times without an offset as UTC, so this may be off by that offset.
        if d.other.timestamp > 0 {
            meta.taken = meta.taken.or(Some(d.other.timestamp));
        }
        let gps = &d.other.parsed_gps;
        if gps.gpsparsed != 0 {
            let angle = |v: &[f32; 3], r: libc::c_char, negative: u8| {
                let a = v[0] as f64 + v[1] as f64 / 60.0 + v[2] as f64 / 3600.0;
                if r as u8 == negative { -a } else { a }
            };
            meta.location = crate::geo::checked(
                angle(&gps.latitude, gps.latref, b'S'),
                angle(&gps.longitude, gps.longref, b'W'),
            );
        }
    }
}

impl Drop for LibRaw<'_> {
    fn drop(&mut self) {
        // SAFETY: the instance came from libraw_init and is closed once.
        unsafe { sys::libraw_close(self.data.as_ptr()) }
    }
}

/// "Canon EOS 30D" when LibRaw's list of supported cameras has the camera these tags name.
fn known_camera(tags: &crate::camera::Tags) -> Option<String> {
    let (make, model) = (tags.make.as_deref()?, tags.model.as_deref()?);
    // Models often repeat the make ("Canon EOS 30D"); the list names each "Make Model" once.
    let model = model
        .strip_prefix(make)
        .map(str::trim_start)
        .unwrap_or(model);
    let wanted = format!("{make} {model}").to_lowercase();
    // SAFETY: LibRaw's static camera list and its length; no arguments.
    let (list, count) = unsafe { (sys::libraw_cameraList(), sys::libraw_cameraCount()) };
    (0..count.max(0) as usize)
        // SAFETY: `i` is below the list's length.
        .map(|i| unsafe { *list.add(i) })
        .take_while(|p| !p.is_null())
        .map(|p| {
            // SAFETY: each entry is a static, null-terminated string.
            unsafe { CStr::from_ptr(p) }
                .to_string_lossy()
                .to_lowercase()
        })
        .any(|name| name == wanted)
        .then(|| format!("{make} {model}"))
}

/// LibRaw's flip (0, 3, 5, 6) as an EXIF orientation.
fn flip_orientation(flip: i32) -> u32 {
    match flip {
        3 => 3,
        5 => 8,
        6 => 6,
        _ => 1,
    }
}

pub fn decode_raw(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    decode_raw_with(path, policy, MIN_PREVIEW)
}

fn decode_raw_with(
    path: &Path,
    policy: &DecodePolicy,
    min_preview: u32,
) -> Result<Decoded, ProbeError> {
    let bytes = std::fs::read(path).map_err(|e| ProbeError::Io(e.to_string()))?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let exif = crate::probe::exif_of(&bytes);
    let mut raw = match LibRaw::open(&bytes) {
        // A camera LibRaw knows, by the file's own EXIF: the file is damaged, not unknown.
        Err(ProbeError::NotMedia(why)) => {
            let tags = exif.as_ref().map(crate::camera::Tags::from_exif);
            return Err(match tags.and_then(|t| known_camera(&t)) {
                Some(camera) => ProbeError::Corrupt(format!(
                    "damaged camera RAW (LibRaw reads the {camera}'s files, but not this one: \
                     {why})"
                )),
                None => ProbeError::NotMedia(why),
            });
        }
        other => other?,
    };
    let (w, h) = raw.upright_size();
    if w as u64 * h as u64 > policy.max_pixels {
        return Err(ProbeError::Corrupt(format!(
            "{w}x{h} pixels is over the {} megapixel limit (a decompression bomb?)",
            policy.max_pixels / 1_000_000
        )));
    }
    let (picture, how) = match raw.preview_index(min_preview) {
        Some(i) => {
            let jpeg = raw.preview(i)?;
            let (_, _, stored) = jpeg_pixels(&jpeg, policy)?;
            // Previews are stored as the sensor lies; the file's orientation stands them up.
            let o = exif
                .as_ref()
                .and_then(exif_orientation)
                .unwrap_or_else(|| flip_orientation(raw.data().sizes.flip));
            (orient(stored, o), "preview")
        }
        None => (raw.demosaic_half()?, "demosaic"),
    };
    tracing::debug!(path = %path.display(), how, "camera RAW decoded");
    let format = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "raw".into());
    let picture = fit(picture, policy)?;
    let mut decoded = crate::decode::still(picture, (w, h), (&format, "raw"), exif.as_ref(), path);
    if exif.is_none() {
        raw.fill_meta(&mut decoded.meta, path);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean of each channel over a box given in fractions of the picture.
    fn mean(img: &RgbImage, x0: f64, y0: f64, x1: f64, y1: f64) -> [f64; 3] {
        let (w, h) = (img.width as f64, img.height as f64);
        let mut sum = [0.0; 3];
        let mut n = 0.0;
        for y in (y0 * h) as usize..(y1 * h) as usize {
            for x in (x0 * w) as usize..(x1 * w) as usize {
                let p = (y * img.width as usize + x) * 3;
                for (s, v) in sum.iter_mut().zip(&img.data[p..p + 3]) {
                    *s += *v as f64;
                }
                n += 1.0;
            }
        }
        sum.map(|s| s / n)
    }

    #[test]
    fn a_canon_raw_is_read_from_its_preview_or_its_sensor_data() {
        let Some(cr2) = vx_testkit::camera_media("IMG_5952.CR2") else {
            return;
        };
        let policy = DecodePolicy::default();
        let preview = decode_raw(&cr2, &policy).unwrap();
        let sensor = decode_raw_with(&cr2, &policy, u32::MAX).unwrap();
        for d in [&preview, &sensor] {
            let m = &d.meta;
            // The sensor's visible area, as LibRaw crops it.
            assert_eq!((m.width, m.height), (Some(3522), Some(2348)));
            assert_eq!(m.format.as_deref(), Some("cr2"));
            assert_eq!(m.camera.as_deref(), Some("Canon EOS 30D"));
            // DateTimeOriginal 2009:07:21 13:03:20.
            assert_eq!(m.taken, Some(1_248_181_400));
        }
        // The preview is 1728x1152, fitted to 1280; half-size demosaicing gives 1761x1174.
        let (p, s) = (&preview.frames[0].image, &sensor.frames[0].image);
        assert_eq!((p.width, p.height), (1280, 853));
        assert_eq!((s.width, s.height), (1280, 853));
        // Either way: a blue sky over a dark forest.
        for img in [p, s] {
            let sky = mean(img, 0.5, 0.0, 1.0, 0.2);
            let forest = mean(img, 0.0, 0.75, 0.5, 0.9);
            assert!(sky[2] > sky[0] && sky[2] > 120.0, "sky {sky:?}");
            let bright = |c: [f64; 3]| c.iter().sum::<f64>();
            assert!(bright(forest) < bright(sky) / 2.0, "forest {forest:?}");
        }
    }

    #[test]
    fn a_dng_without_a_preview_is_demosaiced_and_stood_upright() {
        let (Some(dng), Some(png)) = (
            vx_testkit::camera_media("chelsea-turned.dng"),
            vx_testkit::media("chelsea.png"),
        ) else {
            return;
        };
        let policy = DecodePolicy::default();
        let d = decode_raw(&dng, &policy).unwrap();
        // Stored 300x450, orientation 6: upright it is the cat's 450x300.
        assert_eq!((d.meta.width, d.meta.height), (Some(450), Some(300)));
        assert_eq!(d.meta.camera.as_deref(), Some("PiDNG Test Camera"));
        let got = &d.frames[0].image;
        assert_eq!((got.width, got.height), (225, 150));
        let want = crate::decode::decode(&png, &policy).unwrap().frames[0]
            .image
            .view()
            .resize(225, 150, None)
            .unwrap();
        // Grey levels agree (colour is LibRaw's rendering, not the original's).
        let grey = |img: &RgbImage| -> Vec<f64> {
            img.data
                .chunks(3)
                .map(|p| p.iter().map(|&v| v as f64).sum::<f64>() / 3.0)
                .collect()
        };
        let (g, w) = (grey(got), grey(&want));
        let n = g.len() as f64;
        let (mg, mw) = (g.iter().sum::<f64>() / n, w.iter().sum::<f64>() / n);
        let cov: f64 = g.iter().zip(&w).map(|(a, b)| (a - mg) * (b - mw)).sum();
        let var = |v: &[f64], m: f64| v.iter().map(|a| (a - m) * (a - m)).sum::<f64>();
        let r = cov / (var(&g, mg) * var(&w, mw)).sqrt();
        assert!(r > 0.9, "correlation with the source photo {r}");
    }

    #[test]
    fn damaged_and_unknown_raws_are_errors_with_reasons() {
        let Some(cr2) = vx_testkit::camera_media("IMG_5952.CR2") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(&cr2).unwrap();
        let policy = DecodePolicy::default();
        // Cut inside the preview, and inside the sensor data with the preview refused.
        for (cut, min) in [(200_000, MIN_PREVIEW), (bytes.len() / 2, u32::MAX)] {
            let p = dir.path().join("cut.cr2");
            std::fs::write(&p, &bytes[..cut]).unwrap();
            match decode_raw_with(&p, &policy, min) {
                Err(ProbeError::Corrupt(m)) => {
                    assert!(m.contains("damaged camera RAW"), "{m}")
                }
                other => panic!("{cut} bytes: {:?}", other.map(|d| d.meta)),
            }
        }
        let noise = dir.path().join("noise.nef");
        std::fs::write(
            &noise,
            (0..100_000u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(matches!(
            decode_raw(&noise, &policy),
            Err(ProbeError::NotMedia(_))
        ));
    }
}
