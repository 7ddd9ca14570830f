//! A file's audio, decoded once: 16 kHz mono kept for the transcriber, and the stream's own
//! samples handed to an [`AudioTap`] (the extractors' meters) without being kept.

use ffmpeg_next as ffmpeg;

use super::corrupt;
use crate::probe::ProbeError;

/// Audio to packed f32: 16 kHz mono for the transcriber, or the stream's own rate and channels
/// for an [`AudioTap`].
struct ToF32 {
    resampler: Option<ffmpeg::software::resampling::Context>,
    /// None: the stream's own rate and channels.
    mono_at: Option<u32>,
}

impl ToF32 {
    fn new(mono_at: Option<u32>) -> ToF32 {
        ToF32 {
            resampler: None,
            mono_at,
        }
    }

    /// Appends `frame`, converted, to `out`.
    fn push(&mut self, frame: &ffmpeg::frame::Audio, out: &mut Vec<f32>) -> Result<(), ProbeError> {
        if self.resampler.is_none() {
            let layout = if frame.channel_layout().is_empty() {
                ffmpeg::ChannelLayout::default(frame.channels() as i32)
            } else {
                frame.channel_layout()
            };
            let (to_layout, to_rate) = match self.mono_at {
                Some(rate) => (ffmpeg::ChannelLayout::MONO, rate),
                None => (layout, frame.rate()),
            };
            self.resampler = Some(
                ffmpeg::software::resampling::Context::get(
                    frame.format(),
                    layout,
                    frame.rate(),
                    ffmpeg::format::Sample::F32(ffmpeg::format::sample::Type::Packed),
                    to_layout,
                    to_rate,
                )
                .map_err(|e| corrupt(format!("cannot resample audio: {e}")))?,
            );
        }
        let r = self.resampler.as_mut().expect("just set");
        let channels = if self.mono_at.is_some() {
            1
        } else {
            frame.channels() as usize
        };
        // swr_convert directly: the frame-based call compares channel layouts field by field
        // and refuses files that carry none (plain PCM WAV).
        let samples = frame.samples();
        // SAFETY: the context is initialised for this frame's format; extended_data holds
        // `samples` samples per channel; the output buffer has room for `room` samples of
        // `channels` channels.
        unsafe {
            let room = ffmpeg::ffi::swr_get_out_samples(r.as_mut_ptr(), samples as i32).max(0)
                as usize
                + 32;
            let start = out.len();
            out.resize(start + room * channels, 0.0);
            let mut out_ptr = out[start..].as_mut_ptr() as *mut u8;
            let n = ffmpeg::ffi::swr_convert(
                r.as_mut_ptr(),
                &mut out_ptr,
                room as i32,
                (*frame.as_ptr()).extended_data as *mut *const u8,
                samples as i32,
            );
            if n < 0 {
                out.truncate(start);
                return Err(corrupt("audio resampling failed"));
            }
            out.truncate(start + n as usize * channels);
        }
        Ok(())
    }

    /// Appends what the resampler still holds (a mono output's last samples).
    fn flush(&mut self, out: &mut Vec<f32>) {
        if let Some(r) = self.resampler.as_mut()
            && self.mono_at.is_some()
        {
            // SAFETY: flushing with no input; the buffer has room for `room` mono samples.
            unsafe {
                let room = 16_384usize;
                let start = out.len();
                out.resize(start + room, 0.0);
                let mut out_ptr = out[start..].as_mut_ptr() as *mut u8;
                let n = ffmpeg::ffi::swr_convert(
                    r.as_mut_ptr(),
                    &mut out_ptr,
                    room as i32,
                    std::ptr::null_mut(),
                    0,
                );
                out.truncate(start + n.max(0) as usize);
            }
        }
    }
}

/// What hears a file's audio while it decodes, at its own rate and channels, without it being
/// kept (the extractors' meters).
pub trait AudioTap {
    /// Whether it wants every audio track, not only the one decoded for speech.
    fn every_track(&self) -> bool;
    /// Track `track`'s rate and channels (track 0 is the one decoded for speech, the others
    /// follow in stream order); false: nothing wants them.
    fn open(&mut self, track: usize, rate: u32, channels: u32) -> bool;
    /// Interleaved samples of `track` in -1..1.
    fn push(&mut self, track: usize, samples: &[f32]);
}

/// No tap.
pub struct NoTap;

impl AudioTap for NoTap {
    fn every_track(&self) -> bool {
        false
    }
    fn open(&mut self, _: usize, _: u32, _: u32) -> bool {
        false
    }
    fn push(&mut self, _: usize, _: &[f32]) {}
}

/// The decoded audio: track 0 as 16 kHz mono, kept; every track's own samples handed to the tap.
pub(super) struct AudioOut<'t> {
    mono: ToF32,
    pcm: Vec<f32>,
    tap: &'t mut dyn AudioTap,
    /// Per track: None until its first frame, then its converter when the tap is open for it.
    native: Vec<Option<Option<ToF32>>>,
    buf: Vec<f32>,
}

impl AudioOut<'_> {
    pub(super) fn new(tap: &'_ mut dyn AudioTap) -> AudioOut<'_> {
        AudioOut {
            mono: ToF32::new(Some(16_000)),
            pcm: Vec::new(),
            tap,
            native: Vec::new(),
            buf: Vec::new(),
        }
    }

    pub(super) fn every_track(&self) -> bool {
        self.tap.every_track()
    }

    pub(super) fn push(
        &mut self,
        track: usize,
        frame: &ffmpeg::frame::Audio,
    ) -> Result<(), ProbeError> {
        if track == 0 {
            self.mono.push(frame, &mut self.pcm)?;
        }
        if self.native.len() <= track {
            self.native.resize_with(track + 1, || None);
        }
        let tap = &mut *self.tap;
        let native = self.native[track].get_or_insert_with(|| {
            tap.open(track, frame.rate(), frame.channels() as u32)
                .then(|| ToF32::new(None))
        });
        if let Some(native) = native {
            native.push(frame, &mut self.buf)?;
            self.tap.push(track, &self.buf);
            self.buf.clear();
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Vec<f32> {
        self.mono.flush(&mut self.pcm);
        self.pcm
    }
}
