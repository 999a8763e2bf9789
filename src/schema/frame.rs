//! Row-wise building and column-wise reading of canonical frames.
//!
//! Ingest produces records one at a time; these helpers turn them into a frame with exactly the
//! table's dtypes (and back), so no other module spells out dtypes.

use super::{spec, ColType, Table};
use polars::prelude::*;

enum Values {
    Str(Vec<Option<String>>),
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Ts(Vec<Option<i64>>),
}

/// Builds a frame of one canonical table, value by value, in any column order.
pub struct FrameBuilder {
    table: Table,
    columns: Vec<(&'static str, Values)>,
}

impl FrameBuilder {
    pub fn new(table: Table) -> Self {
        let columns = spec(table)
            .iter()
            .map(|c| {
                let v = match c.ty {
                    ColType::Str => Values::Str(Vec::new()),
                    ColType::I64 => Values::I64(Vec::new()),
                    ColType::F64 => Values::F64(Vec::new()),
                    ColType::Bool => Values::Bool(Vec::new()),
                    ColType::Timestamp => Values::Ts(Vec::new()),
                };
                (c.name, v)
            })
            .collect();
        FrameBuilder { table, columns }
    }

    fn slot(&mut self, name: &str) -> &mut Values {
        let table = self.table;
        &mut self
            .columns
            .iter_mut()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("programming error: table {table} has no column {name}"))
            .1
    }

    pub fn str(&mut self, name: &str, v: Option<&str>) {
        match self.slot(name) {
            Values::Str(x) => x.push(v.map(str::to_string)),
            _ => panic!("programming error: column {name} is not text"),
        }
    }

    pub fn i64(&mut self, name: &str, v: Option<i64>) {
        match self.slot(name) {
            Values::I64(x) => x.push(v),
            _ => panic!("programming error: column {name} is not i64"),
        }
    }

    pub fn f64(&mut self, name: &str, v: Option<f64>) {
        match self.slot(name) {
            Values::F64(x) => x.push(v),
            _ => panic!("programming error: column {name} is not f64"),
        }
    }

    pub fn bool(&mut self, name: &str, v: Option<bool>) {
        match self.slot(name) {
            Values::Bool(x) => x.push(v),
            _ => panic!("programming error: column {name} is not bool"),
        }
    }

    /// A timestamp in microseconds since the Unix epoch, UTC.
    pub fn ts(&mut self, name: &str, v: Option<i64>) {
        match self.slot(name) {
            Values::Ts(x) => x.push(v),
            _ => panic!("programming error: column {name} is not a timestamp"),
        }
    }

    /// The frame, with the table's dtypes. Fails if columns have different lengths.
    pub fn finish(self) -> PolarsResult<DataFrame> {
        let cols = self
            .columns
            .into_iter()
            .map(|(name, v)| {
                let name: PlSmallStr = name.into();
                let s = match v {
                    Values::Str(x) => Series::new(name, x),
                    Values::I64(x) => Series::new(name, x),
                    Values::F64(x) => Series::new(name, x),
                    Values::Bool(x) => Series::new(name, x),
                    Values::Ts(x) => Int64Chunked::from_iter_options(name, x.into_iter())
                        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                        .into_series(),
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

    pub fn str(&self, name: &str) -> PolarsResult<Vec<Option<String>>> {
        Ok(self.df.column(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
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
