//! Integer keys for address columns, so that `stats … by srcAddr, dstAddr` and
//! `count_distinct(srcAddr)` hash and compare integers instead of strings (DataFusion's
//! aggregation on two string keys was the slowest query of the benchmark).
//!
//! Every address text gets a code: a dotted-quad IPv4 address exactly as `parse_v4` reads it
//! (no leading zeros, so the text is the number's only spelling) is its 32-bit value; any
//! other text (IPv6, anything else) gets `2^32 +` an id interned for the query. The codes are
//! injective, so grouping or counting distinct codes is grouping or counting distinct texts,
//! and [`AddrText`] turns a code back into the very text it came from. One [`Interner`] is
//! shared by the key and text functions of one query (and by every partition running them).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow::array::{ArrayRef, AsArray, Decimal128Builder, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Decimal128Type, Int64Type};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::udf::{for_each_str, parse_v4};

/// First code of interned (non-IPv4) texts.
const OTHER: u64 = 1 << 32;
/// Bits of one address in a pair key: codes are below 2^33, plus one so 0 can mean null.
const PART_BITS: u32 = 34;
const PART_MASK: i128 = (1 << PART_BITS) - 1;

/// Interned texts: text → code, and the texts by `code - OTHER`.
type Table = (HashMap<String, u64>, Vec<String>);

/// The non-IPv4 texts of one query, by code.
#[derive(Debug, Default)]
pub struct Interner {
    texts: Mutex<Table>,
}

impl Interner {
    /// The code of `s`; the table is locked on the first non-IPv4 text of a batch and kept
    /// locked (in `table`) for the rest of it.
    fn code<'a>(&'a self, s: &str, table: &mut Option<MutexGuard<'a, Table>>) -> DfResult<u64> {
        if let Some(v4) = parse_v4(s) {
            return Ok(u64::from(v4));
        }
        if table.is_none() {
            *table = Some(self.lock()?);
        }
        let Some((ids, texts)) = table.as_deref_mut() else {
            return Err(DataFusionError::Internal(
                "address interner not locked".into(),
            ));
        };
        if let Some(&c) = ids.get(s) {
            return Ok(c);
        }
        let c = OTHER + texts.len() as u64;
        if c >= OTHER * 2 {
            return Err(DataFusionError::Execution(
                "more than 4 billion distinct non-IPv4 addresses in one query".into(),
            ));
        }
        ids.insert(s.to_string(), c);
        texts.push(s.to_string());
        Ok(c)
    }

    fn lock(&self) -> DfResult<MutexGuard<'_, Table>> {
        self.texts
            .lock()
            .map_err(|_| DataFusionError::Internal("address interner poisoned".into()))
    }
}

/// What one of the functions computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    /// One address text → Int64 code (null stays null).
    Key,
    /// Two address texts → one Decimal128 key (each part code + 1, 0 for null).
    PairKey,
    /// An Int64 code → its text.
    Text,
    /// Part 0 or 1 of a pair key → its text.
    PairText(u8),
}

#[derive(Debug)]
struct AddrFn {
    name: String,
    op: Op,
    interner: Arc<Interner>,
    signature: Signature,
}

// One function per query and interner: equal only to itself (and its clones).
impl PartialEq for AddrFn {
    fn eq(&self, other: &Self) -> bool {
        self.op == other.op && Arc::ptr_eq(&self.interner, &other.interner)
    }
}

impl Eq for AddrFn {}

impl Hash for AddrFn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.op.hash(state);
        (Arc::as_ptr(&self.interner) as usize).hash(state);
    }
}

/// The address key and text functions of one query, sharing one interner.
#[derive(Clone, Debug, Default)]
pub struct AddrKeys {
    interner: Arc<Interner>,
}

impl AddrKeys {
    fn udf(&self, name: &str, op: Op) -> ScalarUDF {
        let signature = match op {
            Op::Key => Signature::string(1, Volatility::Immutable),
            Op::PairKey => Signature::string(2, Volatility::Immutable),
            Op::Text => Signature::exact(vec![DataType::Int64], Volatility::Immutable),
            Op::PairText(_) => Signature::exact(vec![pair_type()], Volatility::Immutable),
        };
        ScalarUDF::new_from_impl(AddrFn {
            name: name.to_string(),
            op,
            interner: Arc::clone(&self.interner),
            signature,
        })
    }

    /// `addr_key(text)`: Int64.
    pub fn key(&self) -> ScalarUDF {
        self.udf("addr_key", Op::Key)
    }

    /// `addr_pair_key(a, b)`: Decimal128(38, 0).
    pub fn pair_key(&self) -> ScalarUDF {
        self.udf("addr_pair_key", Op::PairKey)
    }

    /// `addr_text(key)`: the text of an [`AddrKeys::key`].
    pub fn text(&self) -> ScalarUDF {
        self.udf("addr_text", Op::Text)
    }

    /// `addr_pair_text_<part>(key)`: the text of part 0 or 1 of an [`AddrKeys::pair_key`].
    pub fn pair_text(&self, part: u8) -> ScalarUDF {
        self.udf(&format!("addr_pair_text_{part}"), Op::PairText(part))
    }
}

fn pair_type() -> DataType {
    DataType::Decimal128(38, 0)
}

impl ScalarUDFImpl for AddrFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(match self.op {
            Op::Key => DataType::Int64,
            Op::PairKey => pair_type(),
            Op::Text | Op::PairText(_) => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let interner = &self.interner;
        let mut table = None;
        let out: ArrayRef = match self.op {
            Op::Key => {
                let mut b = Int64Builder::with_capacity(rows);
                let mut failed = None;
                for_each_str(&arrays[0], |v| match v {
                    Some(s) => match interner.code(s, &mut table) {
                        Ok(c) => b.append_value(c as i64),
                        Err(e) => failed = Some(e),
                    },
                    None => b.append_null(),
                })?;
                if let Some(e) = failed {
                    return Err(e);
                }
                Arc::new(b.finish())
            }
            Op::PairKey => {
                let mut parts = [vec![], vec![]];
                for (i, part) in parts.iter_mut().enumerate() {
                    part.reserve(rows);
                    let mut failed = None;
                    for_each_str(&arrays[i], |v| match v {
                        Some(s) => match interner.code(s, &mut table) {
                            Ok(c) => part.push(c as i128 + 1),
                            Err(e) => failed = Some(e),
                        },
                        None => part.push(0),
                    })?;
                    if let Some(e) = failed {
                        return Err(e);
                    }
                }
                let mut b = Decimal128Builder::with_capacity(rows);
                for (a, c) in parts[0].iter().zip(&parts[1]) {
                    b.append_value((a << PART_BITS) | c);
                }
                Arc::new(b.finish().with_data_type(pair_type()))
            }
            Op::Text => {
                let keys = arrays[0].as_primitive::<Int64Type>();
                let table = interner.lock()?;
                let mut b = StringBuilder::with_capacity(rows, rows * 16);
                for k in keys.iter() {
                    match k {
                        Some(k) => b.append_value(text(k as u64, &table.1)?),
                        None => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Op::PairText(part) => {
                let keys = arrays[0].as_primitive::<Decimal128Type>();
                let table = interner.lock()?;
                let mut b = StringBuilder::with_capacity(rows, rows * 16);
                for k in keys.iter() {
                    let code = k.map(|k| {
                        let shift = if part == 0 { PART_BITS } else { 0 };
                        (k >> shift) & PART_MASK
                    });
                    match code {
                        Some(c) if c > 0 => b.append_value(text((c - 1) as u64, &table.1)?),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// The text of a code.
fn text(code: u64, others: &[String]) -> DfResult<String> {
    if code < OTHER {
        return Ok(std::net::Ipv4Addr::from(code as u32).to_string());
    }
    others
        .get((code - OTHER) as usize)
        .cloned()
        .ok_or_else(|| DataFusionError::Internal(format!("address code {code} unknown")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringArray};
    use arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    fn call(f: &ScalarUDF, args: Vec<ArrayRef>) -> ArrayRef {
        let rows = args[0].len();
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type().clone(), true)))
            .collect();
        let ret = f.return_type(&[]).unwrap();
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                args: args.into_iter().map(ColumnarValue::Array).collect(),
                arg_fields,
                number_rows: rows,
                return_field: Arc::new(Field::new("r", ret, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap();
        match out {
            ColumnarValue::Array(a) => a,
            ColumnarValue::Scalar(s) => s.to_array().unwrap(),
        }
    }

    #[test]
    fn codes_round_trip_every_text_and_keep_texts_apart() {
        let keys = AddrKeys::default();
        let texts: ArrayRef = Arc::new(StringArray::from(vec![
            Some("10.0.0.1"),
            Some("2001:db8::1"),
            None,
            Some("010.0.0.1"), // not the canonical spelling: interned, not merged with 10.0.0.1
            Some("2001:db8::1"),
            Some("255.255.255.255"),
            Some("0.0.0.0"),
        ]));
        let k = call(&keys.key(), vec![Arc::clone(&texts)]);
        let k64 = k.as_primitive::<Int64Type>();
        assert_eq!(k64.value(0), 0x0a00_0001);
        assert!(k64.is_null(2));
        assert_eq!(k64.value(1), k64.value(4), "one text, one code");
        assert_ne!(k64.value(0), k64.value(3));
        let back = call(&keys.text(), vec![k]);
        assert_eq!(back.as_string::<i32>(), texts.as_string::<i32>());

        let other: ArrayRef = Arc::new(StringArray::from(vec![
            None,
            Some("10.0.0.1"),
            Some("fe80::1"),
            None,
            Some("2001:db8::1"),
            Some("1.2.3.4"),
            Some("0.0.0.0"),
        ]));
        let pair = call(
            &keys.pair_key(),
            vec![Arc::clone(&texts), Arc::clone(&other)],
        );
        let p = pair.as_primitive::<Decimal128Type>();
        assert_ne!(
            p.value(0),
            p.value(2),
            "(10.0.0.1, null) and (null, fe80::1)"
        );
        let a = call(&keys.pair_text(0), vec![Arc::clone(&pair)]);
        let b = call(&keys.pair_text(1), vec![pair]);
        assert_eq!(a.as_string::<i32>(), texts.as_string::<i32>());
        assert_eq!(b.as_string::<i32>(), other.as_string::<i32>());
    }
}
