//! Codec layer: a cursor over fed gob bytes, message by message (docs/protocol.md §4.1, §4.2).
//!
//! The cursor sees everything fed so far. Reads stay inside the *current
//! message*; running past it is invalid input. Only [`Cursor::next_message`]
//! can report "need more bytes", because only a message boundary may fall
//! beyond what has arrived. That is how the decoder tells the two apart.

use super::{Error, MAX_MESSAGE_SIZE};

/// Why a decode step stopped.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The next message is not complete yet: at least this many bytes (counted
    /// from the cursor's origin) must be available before retrying.
    NeedMore(usize),
    /// The stream is broken.
    Invalid(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Invalid(e)
    }
}

/// Reads the gob uint at the start of `b`: `Ok(None)` if `b` is too short to tell.
pub(crate) fn peek_uint(b: &[u8]) -> Result<Option<(u64, usize)>, Error> {
    let Some(&first) = b.first() else {
        return Ok(None);
    };
    if first <= 0x7f {
        return Ok(Some((u64::from(first), 1)));
    }
    let n = usize::from(first.wrapping_neg());
    if n > 8 {
        return Err(Error::BadUint(first));
    }
    let Some(raw) = b.get(1..=n) else {
        return Ok(None);
    };
    Ok(Some((
        raw.iter().fold(0u64, |x, &c| (x << 8) | u64::from(c)),
        n + 1,
    )))
}

/// A cursor over the fed bytes with one current message.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    /// Start of the next (not yet opened) message.
    next: usize,
    /// Read position inside the current message.
    pos: usize,
    /// End of the current message.
    end: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`, with no message open.
    pub(crate) fn new(data: &'a [u8]) -> Cursor<'a> {
        Cursor {
            data,
            next: 0,
            pos: 0,
            end: 0,
        }
    }

    /// Bytes consumed from the origin: everything up to the end of the last opened message.
    pub(crate) fn consumed(&self) -> usize {
        self.next
    }

    /// Read position, counted from the origin.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Moves the read position forward to `to` inside the current message
    /// (replaying a definition already read by an earlier attempt).
    pub(crate) fn skip_to(&mut self, to: usize) -> Result<(), Error> {
        if to < self.pos || to > self.end {
            return Err(Error::Truncated {
                what: "replayed definition",
                need: (to.saturating_sub(self.pos)) as u64,
                have: self.left(),
            });
        }
        self.pos = to;
        Ok(())
    }

    /// Bytes left in the current message.
    pub(crate) fn left(&self) -> u64 {
        (self.end - self.pos) as u64
    }

    /// Opens the next message. The current one must be used up.
    pub(crate) fn next_message(&mut self) -> Result<(), Fail> {
        debug_assert_eq!(self.pos, self.end);
        let rest = &self.data[self.next..];
        let Some((len, width)) = peek_uint(rest)? else {
            return Err(Fail::NeedMore(self.next + rest.len() + 1));
        };
        if len > MAX_MESSAGE_SIZE {
            return Err(Error::MessageTooLarge {
                len,
                max: MAX_MESSAGE_SIZE,
            }
            .into());
        }
        if len == 0 {
            return Err(Error::EmptyMessage.into());
        }
        // Cannot overflow: len ≤ 64 MiB.
        let start = self.next + width;
        let end = start + len as usize;
        if end > self.data.len() {
            return Err(Fail::NeedMore(end));
        }
        self.pos = start;
        self.end = end;
        self.next = end;
        Ok(())
    }

    /// One byte of the current message.
    pub(crate) fn byte(&mut self, what: &'static str) -> Result<u8, Error> {
        if self.pos >= self.end {
            return Err(Error::Truncated {
                what,
                need: 1,
                have: 0,
            });
        }
        let b = self.data[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// A gob uint (docs/protocol.md §4.1).
    pub(crate) fn uint(&mut self, what: &'static str) -> Result<u64, Error> {
        let first = self.byte(what)?;
        if first <= 0x7f {
            return Ok(u64::from(first));
        }
        let n = first.wrapping_neg();
        if n > 8 {
            return Err(Error::BadUint(first));
        }
        let raw = self.take(u64::from(n), what)?;
        Ok(raw.iter().fold(0u64, |x, &c| (x << 8) | u64::from(c)))
    }

    /// A gob int (docs/protocol.md §4.1): zig-zag over a uint.
    pub(crate) fn int(&mut self, what: &'static str) -> Result<i64, Error> {
        let u = self.uint(what)?;
        Ok(if u & 1 == 1 {
            !((u >> 1) as i64)
        } else {
            (u >> 1) as i64
        })
    }

    /// The next `n` bytes of the current message.
    pub(crate) fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Error> {
        if n > self.left() {
            return Err(Error::Truncated {
                what,
                need: n,
                have: self.left(),
            });
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    /// A uint length followed by that many bytes (strings, `[]byte`, opaque payloads).
    pub(crate) fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], Error> {
        let n = self.uint(what)?;
        self.take(n, what)
    }

    /// A collection count, checked against the limit and the bytes left
    /// (every element takes at least one byte), before anything is allocated.
    pub(crate) fn count(&mut self, what: &'static str) -> Result<usize, Error> {
        let count = self.uint(what)?;
        if count > super::MAX_COLLECTION_LEN {
            return Err(Error::CollectionTooLong {
                what,
                count,
                max: super::MAX_COLLECTION_LEN,
            });
        }
        if count > self.left() {
            return Err(Error::CountExceedsInput {
                what,
                count,
                have: self.left(),
            });
        }
        Ok(count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(b: &[u8]) -> Cursor<'_> {
        let mut c = Cursor::new(b);
        c.next_message().unwrap();
        c
    }

    #[test]
    fn uints_and_ints_from_the_protocol_examples() {
        let uints: &[(&[u8], u64)] = &[
            (&[0x00], 0),
            (&[0x07], 7),
            (&[0x7f], 127),
            (&[0xff, 0x80], 128),
            (&[0xfe, 0x01, 0x00], 256),
            (&[0xfe, 0x02, 0x4f], 591),
            (
                &[0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                u64::MAX,
            ),
        ];
        for (wire, want) in uints {
            let mut framed = vec![wire.len() as u8];
            framed.extend_from_slice(wire);
            assert_eq!(msg(&framed).uint("t").unwrap(), *want, "{wire:02x?}");
        }
        let ints: &[(&[u8], i64)] = &[
            (&[0x00], 0),
            (&[0x06], 3),
            (&[0x01], -1),
            (&[0xff, 0x82], 65),
            (&[0xff, 0x81], -65),
            (&[0xfe, 0x01, 0x01], -129),
        ];
        for (wire, want) in ints {
            let mut framed = vec![wire.len() as u8];
            framed.extend_from_slice(wire);
            assert_eq!(msg(&framed).int("t").unwrap(), *want, "{wire:02x?}");
        }
    }

    #[test]
    fn bad_uint_and_short_reads_are_invalid() {
        assert_eq!(msg(&[1, 0xf7]).uint("t"), Err(Error::BadUint(0xf7)));
        assert!(matches!(
            msg(&[2, 0xfd, 1]).uint("t"),
            Err(Error::Truncated {
                need: 3,
                have: 1,
                ..
            })
        ));
        assert!(matches!(
            msg(&[1, 0x05]).bytes("t"),
            Err(Error::Truncated {
                need: 5,
                have: 0,
                ..
            })
        ));
    }

    #[test]
    fn message_framing_needs_more_or_rejects() {
        let mut c = Cursor::new(&[0x03, 0x01]);
        assert!(matches!(c.next_message(), Err(Fail::NeedMore(4))));
        let mut c = Cursor::new(&[0xfe]);
        assert!(matches!(c.next_message(), Err(Fail::NeedMore(2))));
        let mut c = Cursor::new(&[]);
        assert!(matches!(c.next_message(), Err(Fail::NeedMore(1))));
        let mut c = Cursor::new(&[0xfc, 0x10, 0, 0, 0]);
        assert!(matches!(
            c.next_message(),
            Err(Fail::Invalid(Error::MessageTooLarge { .. }))
        ));
        let mut c = Cursor::new(&[0x00]);
        assert!(matches!(
            c.next_message(),
            Err(Fail::Invalid(Error::EmptyMessage))
        ));
    }

    #[test]
    fn counts_are_checked_before_allocation() {
        assert!(matches!(
            msg(&[3, 0xfe, 0x10, 0x00]).count("slice"),
            Err(Error::CountExceedsInput {
                count: 4096,
                have: 0,
                ..
            })
        ));
        assert!(matches!(
            msg(&[5, 0xfc, 0x10, 0, 0, 0]).count("slice"),
            Err(Error::CollectionTooLong { .. })
        ));
    }
}
