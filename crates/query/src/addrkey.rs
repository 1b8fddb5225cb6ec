//! Integer codes for address texts, so that `count_distinct(srcAddr)` keeps sets of integers
//! instead of sets of strings (1.4 times faster on the benchmark's 2,000 ENIs × 50 M records).
//!
//! Every address text gets a code: a dotted-quad IPv4 address exactly as `parse_v4` reads it
//! (no leading zeros, so the text is the number's only spelling) is its 32-bit value; any
//! other text (IPv6, anything else) gets `2^32 +` an id interned for the query. The codes are
//! injective, so counting distinct codes is counting distinct texts. The interner is shared
//! by every partition running the function (the partial counts of a group are merged by
//! code, so one text must have one code in every partition).
//!
//! (Grouping on such codes was tried for `stats … by srcAddr, dstAddr` and gained nothing:
//! the cost there is the hash table of 12 M groups, not the string keys; BENCHMARKS.md.)

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow::array::{ArrayRef, Int64Builder};
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::udf::{for_each_str, parse_v4};

/// First code of interned (non-IPv4) texts.
const OTHER: u64 = 1 << 32;

/// Interned texts: text → code.
type Table = HashMap<String, u64>;

#[derive(Debug)]
struct AddrKey {
    interner: Arc<Mutex<Table>>,
    signature: Signature,
}

// One function per use in a query: equal only to itself (and its clones).
impl PartialEq for AddrKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.interner, &other.interner)
    }
}

impl Eq for AddrKey {}

impl Hash for AddrKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.interner) as usize).hash(state);
    }
}

/// `addr_key(text)`: the Int64 code of an address text (null stays null), with its own
/// interner.
pub fn addr_key() -> ScalarUDF {
    ScalarUDF::new_from_impl(AddrKey {
        interner: Arc::default(),
        signature: Signature::string(1, Volatility::Immutable),
    })
}

/// The code of `s`; the table is locked on the first non-IPv4 text of a batch and kept locked
/// (in `table`) for the rest of it.
fn code<'a>(
    interner: &'a Mutex<Table>,
    s: &str,
    table: &mut Option<MutexGuard<'a, Table>>,
) -> DfResult<u64> {
    if let Some(v4) = parse_v4(s) {
        return Ok(u64::from(v4));
    }
    if table.is_none() {
        *table = Some(
            interner
                .lock()
                .map_err(|_| DataFusionError::Internal("address interner poisoned".into()))?,
        );
    }
    let Some(ids) = table.as_deref_mut() else {
        return Err(DataFusionError::Internal(
            "address interner not locked".into(),
        ));
    };
    if let Some(&c) = ids.get(s) {
        return Ok(c);
    }
    let c = OTHER + ids.len() as u64;
    ids.insert(s.to_string(), c);
    Ok(c)
}

impl ScalarUDFImpl for AddrKey {
    fn name(&self) -> &str {
        "addr_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut b = Int64Builder::with_capacity(args.number_rows);
        let mut table = None;
        let mut failed = None;
        for_each_str(&arrays[0], |v| match v {
            Some(s) => match code(&self.interner, s, &mut table) {
                Ok(c) => b.append_value(c as i64),
                Err(e) => failed = Some(e),
            },
            None => b.append_null(),
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish()) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, StringArray};
    use arrow::datatypes::{Field, Int64Type};
    use datafusion::config::ConfigOptions;

    #[test]
    fn one_code_per_text_and_no_two_texts_share_one() {
        let f = addr_key();
        let texts: ArrayRef = Arc::new(StringArray::from(vec![
            Some("10.0.0.1"),
            Some("2001:db8::1"),
            None,
            Some("010.0.0.1"), // not the canonical spelling: interned, not merged with 10.0.0.1
            Some("2001:db8::1"),
            Some("255.255.255.255"),
            Some("fe80::1"),
        ]));
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![ColumnarValue::Array(Arc::clone(&texts))],
                arg_fields: vec![Arc::new(Field::new("a", DataType::Utf8, true))],
                number_rows: texts.len(),
                return_field: Arc::new(Field::new("r", DataType::Int64, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap();
        let ColumnarValue::Array(out) = out else {
            panic!("an array")
        };
        let k = out.as_primitive::<Int64Type>();
        assert_eq!(k.value(0), 0x0a00_0001);
        assert_eq!(k.value(5), 0xffff_ffff);
        assert!(k.is_null(2));
        assert_eq!(k.value(1), k.value(4), "one text, one code");
        let codes: std::collections::HashSet<i64> =
            [0, 1, 3, 5, 6].iter().map(|&i| k.value(i)).collect();
        assert_eq!(codes.len(), 5, "distinct texts, distinct codes");
    }
}
