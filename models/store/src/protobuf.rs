//! The protobuf wire format, as far as reading and rewriting ONNX files needs: a message as a
//! list of fields whose bytes are kept as they are, and writers for new fields. A message
//! written back field by field is the same message, so an edit touches only what it changes.

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProtobufError(pub &'static str);

type Result<T> = std::result::Result<T, ProtobufError>;

pub const VARINT: u8 = 0;
const FIXED64: u8 = 1;
pub const LENGTH_DELIMITED: u8 = 2;
const FIXED32: u8 = 5;

/// One field of a message: its number, wire type and the bytes of its value (for a varint,
/// the value's own encoding; for a length-delimited field, the bytes after the length).
pub struct Field<'a> {
    pub number: u32,
    pub wire: u8,
    pub value: &'a [u8],
}

impl Field<'_> {
    /// A varint field's value.
    pub fn uint(&self) -> Result<u64> {
        varint(self.value, &mut 0)
    }
}

/// Reads a varint at `at`, moving `at` past it.
pub fn varint(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or(ProtobufError("truncated varint"))?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError("varint too long"))
}

/// The fields of a message, in order.
pub fn fields(message: &[u8]) -> Result<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let key = varint(message, &mut at)?;
        let (number, wire) = ((key >> 3) as u32, (key & 7) as u8);
        let start = at;
        let len = match wire {
            VARINT => {
                varint(message, &mut at)?;
                std::mem::replace(&mut at, start) - start
            }
            FIXED64 => 8,
            LENGTH_DELIMITED => varint(message, &mut at)? as usize,
            FIXED32 => 4,
            _ => return Err(ProtobufError("unsupported wire type")),
        };
        let end = at
            .checked_add(len)
            .filter(|&e| e <= message.len())
            .ok_or(ProtobufError("truncated field"))?;
        out.push(Field {
            number,
            wire,
            value: &message[at..end],
        });
        at = end;
    }
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-delimited field (bytes, a string or a message).
pub fn put_bytes(out: &mut Vec<u8>, number: u32, value: &[u8]) {
    put_varint(out, u64::from(number) << 3 | u64::from(LENGTH_DELIMITED));
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// Appends a varint field.
pub fn put_u64(out: &mut Vec<u8>, number: u32, value: u64) {
    put_varint(out, u64::from(number) << 3 | u64::from(VARINT));
    put_varint(out, value);
}

/// Appends a field read by [`fields`], unchanged.
pub fn put_field(out: &mut Vec<u8>, f: &Field) {
    put_varint(out, u64::from(f.number) << 3 | u64::from(f.wire));
    if f.wire == LENGTH_DELIMITED {
        put_varint(out, f.value.len() as u64);
    }
    out.extend_from_slice(f.value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_written_back_are_the_same_bytes() {
        let mut m = Vec::new();
        put_u64(&mut m, 1, 300);
        put_bytes(&mut m, 7, b"graph");
        m.extend_from_slice(&[(3 << 3) | FIXED32, 1, 2, 3, 4]);
        m.extend_from_slice(&[(4 << 3) | FIXED64, 1, 2, 3, 4, 5, 6, 7, 8]);
        let f = fields(&m).unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!((f[0].number, f[0].uint().unwrap()), (1, 300));
        assert_eq!((f[1].number, f[1].value), (7, &b"graph"[..]));
        let mut back = Vec::new();
        for field in &f {
            put_field(&mut back, field);
        }
        assert_eq!(back, m);
    }

    #[test]
    fn damaged_messages_are_errors() {
        assert!(fields(&[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err()); // length past the end
        assert!(fields(&[0x08]).is_err()); // a varint cut short
        assert!(fields(&[0x0b]).is_err()); // wire type 3 (groups)
        assert!(fields(&[0x0d, 1, 2]).is_err()); // a fixed32 cut short
        assert!(fields(&[0x08; 11]).is_err()); // a varint of 11 bytes
    }
}
