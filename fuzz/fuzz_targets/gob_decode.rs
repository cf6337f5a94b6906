//! Fuzz target: the gob stream decoder and the serde mapping onto Argo types.
//! The first input byte picks the feed split, so framing across chunks is fuzzed too.
#![no_main]

use canary_gate::argo::{AnalysisRun, Measurement, Metric};
use canary_gate::gob::{Decoder, Value, from_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut d = Decoder::new();
    for chunk in bytes.chunks(usize::from(split) + 1) {
        d.feed(chunk);
        while let Ok(Some((_, v))) = d.next_value() {
            let inner = match &v {
                Value::Interface(Some((_, inner))) => &**inner,
                other => other,
            };
            let _ = from_value::<AnalysisRun>(inner);
            let _ = from_value::<Metric>(inner);
            let _ = from_value::<Measurement>(inner);
        }
    }
    assert!(d.buffered() <= bytes.len());
});
