//! AMF3 decoding (AMF 3 Specification section 3) with reference tables.

use super::Value;
use crate::amf::{AmfError, Budget};
use crate::limits::AmfLimits;

/// An AMF3 decoder: holds the string, object and trait reference tables of
/// one AMF3 context.
#[derive(Debug)]
pub struct Decoder {
    limits: AmfLimits,
}

impl Decoder {
    /// A decoder with empty reference tables.
    pub fn new(limits: &AmfLimits) -> Self {
        Decoder {
            limits: limits.clone(),
        }
    }

    /// Decodes one value from the front of `buf`, advancing it.
    pub fn decode(&mut self, buf: &mut &[u8]) -> Result<Value, AmfError> {
        let limits = self.limits.clone();
        let mut budget = Budget::new(&limits);
        self.decode_with_budget(buf, &mut budget)
    }

    /// Decodes one value, sharing a budget with an enclosing AMF0 value.
    pub(crate) fn decode_with_budget(
        &mut self,
        buf: &mut &[u8],
        budget: &mut Budget<'_>,
    ) -> Result<Value, AmfError> {
        let _ = (buf, budget);
        todo!("AMF3 decoder")
    }
}

/// Decodes one value with a fresh context.
pub fn decode(buf: &mut &[u8], limits: &AmfLimits) -> Result<Value, AmfError> {
    Decoder::new(limits).decode(buf)
}
