//! Row-wise building and column-wise reading of canonical frames.
//!
//! Ingest produces records one at a time; these helpers turn them into a frame with exactly the
//! table's dtypes (and back), so no other module spells out dtypes.

use super::{spec, ColType, Table};
use polars::prelude::*;

/// Column builders straight into Arrow buffers (no intermediate `String` per value).
enum Values {
    Str(StringChunkedBuilder),
    I64(PrimitiveChunkedBuilder<Int64Type>),
    F64(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    Ts(PrimitiveChunkedBuilder<Int64Type>),
}

/// Builds a frame of one canonical table, value by value, in any column order.
pub struct FrameBuilder {
    table: Table,
    columns: Vec<(&'static str, Values)>,
    /// Where the next value most likely goes: rows are pushed in spec order.
    cursor: usize,
}

impl FrameBuilder {
    pub fn new(table: Table) -> Self {
        FrameBuilder::with_capacity(table, 0)
    }

    /// A builder with room for `rows` rows in every column, so a row group's columns are
    /// allocated once instead of growing by doubling (and page-faulting on each new block).
    pub fn with_capacity(table: Table, rows: usize) -> Self {
        let columns = spec(table)
            .iter()
            .map(|c| {
                let name: PlSmallStr = c.name.into();
                let v = match c.ty {
                    ColType::Str => Values::Str(StringChunkedBuilder::new(name, rows)),
                    ColType::I64 => Values::I64(PrimitiveChunkedBuilder::new(name, rows)),
                    ColType::F64 => Values::F64(PrimitiveChunkedBuilder::new(name, rows)),
                    ColType::Bool => Values::Bool(BooleanChunkedBuilder::new(name, rows)),
                    ColType::Timestamp => Values::Ts(PrimitiveChunkedBuilder::new(name, rows)),
                };
                (c.name, v)
            })
            .collect();
        FrameBuilder { table, columns, cursor: 0 }
    }

    fn slot(&mut self, name: &str) -> &mut Values {
        let n = self.columns.len();
        let i = if self.columns[self.cursor].0 == name {
            self.cursor
        } else {
            let table = self.table;
            self.columns
                .iter()
                .position(|(c, _)| *c == name)
                .unwrap_or_else(|| panic!("programming error: table {table} has no column {name}"))
        };
        self.cursor = (i + 1) % n;
        &mut self.columns[i].1
    }

    pub fn str(&mut self, name: &str, v: Option<&str>) {
        match self.slot(name) {
            Values::Str(x) => x.append_option(v),
            _ => panic!("programming error: column {name} is not text"),
        }
    }

    pub fn i64(&mut self, name: &str, v: Option<i64>) {
        match self.slot(name) {
            Values::I64(x) => x.append_option(v),
            _ => panic!("programming error: column {name} is not i64"),
        }
    }

    pub fn f64(&mut self, name: &str, v: Option<f64>) {
        match self.slot(name) {
            Values::F64(x) => x.append_option(v),
            _ => panic!("programming error: column {name} is not f64"),
        }
    }

    pub fn bool(&mut self, name: &str, v: Option<bool>) {
        match self.slot(name) {
            Values::Bool(x) => x.append_option(v),
            _ => panic!("programming error: column {name} is not bool"),
        }
    }

    /// A timestamp in microseconds since the Unix epoch, UTC.
    pub fn ts(&mut self, name: &str, v: Option<i64>) {
        match self.slot(name) {
            Values::Ts(x) => x.append_option(v),
            _ => panic!("programming error: column {name} is not a timestamp"),
        }
    }

    /// The frame, with the table's dtypes. Fails if columns have different lengths.
    pub fn finish(self) -> PolarsResult<DataFrame> {
        let cols = self
            .columns
            .into_iter()
            .map(|(_, v)| {
                let s = match v {
                    Values::Str(x) => x.finish().into_series(),
                    Values::I64(x) => x.finish().into_series(),
                    Values::F64(x) => x.finish().into_series(),
                    Values::Bool(x) => x.finish().into_series(),
                    Values::Ts(x) => {
                        x.finish().into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)).into_series()
                    }
                };
                Column::from(s)
            })
            .collect();
        DataFrame::new_infer_height(cols)
    }
}

/// Typed column access to a canonical frame.
pub struct FrameReader<'a> {
    df: &'a DataFrame,
}

impl<'a> FrameReader<'a> {
    pub fn new(df: &'a DataFrame) -> Self {
        FrameReader { df }
    }

    pub fn height(&self) -> usize {
        self.df.height()
    }

    /// A text column as owned strings of the caller's type (`String`, or the rows' inline `Text`).
    pub fn str<T: for<'s> From<&'s str>>(&self, name: &str) -> PolarsResult<Vec<Option<T>>> {
        Ok(self.df.column(name)?.str()?.iter().map(|v| v.map(T::from)).collect())
    }

    pub fn f64(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        Ok(self.df.column(name)?.f64()?.iter().collect())
    }

    pub fn i64(&self, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        Ok(self.df.column(name)?.i64()?.iter().collect())
    }

    pub fn bool(&self, name: &str) -> PolarsResult<Vec<Option<bool>>> {
        Ok(self.df.column(name)?.bool()?.iter().collect())
    }

    /// Microseconds since the epoch, UTC.
    pub fn ts(&self, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        let c = self.df.column(name)?;
        let s = c.cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?;
        Ok(s.datetime()?.physical().iter().collect())
    }
}
