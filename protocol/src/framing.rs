//! How messages travel: length-delimited bincode frames, and the check vxd makes on a request
//! frame before tarpc reads it.

/// Frames up to 64 MiB: search results and status fit easily.
pub const MAX_FRAME: usize = 64 << 20;

/// Whether a request frame's deadline is one tarpc can read: tarpc 0.38 adds it to the current
/// instant unchecked and panics on overflow, so vxd refuses (closes) a frame whose deadline
/// lies more than a year ahead before tarpc reads it. The frame is bincode with varints: the
/// message's variant (0: a request), then the deadline's seconds.
pub fn deadline_in_range(frame: &[u8]) -> bool {
    /// A year: no call of vx waits longer.
    const MAX_SECS: u64 = 365 * 24 * 3600;
    fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
        let (&first, rest) = b.split_first()?;
        let take = |n: usize| -> Option<(u64, &[u8])> {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(rest.get(..n)?);
            Some((u64::from_le_bytes(v), &rest[n..]))
        };
        match first {
            0..=250 => Some((first as u64, rest)),
            251 => take(2),
            252 => take(4),
            253 => take(8),
            // u128: past any deadline.
            _ => Some((u64::MAX, rest)),
        }
    }
    match varint(frame) {
        Some((0, rest)) => varint(rest).is_some_and(|(secs, _)| secs <= MAX_SECS),
        _ => true,
    }
}
