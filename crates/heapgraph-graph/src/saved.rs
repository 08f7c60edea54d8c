//! How a structure hands its arrays to an index file and takes them back: named columns.
//!
//! Each structure (the graph, each analysis) decides which arrays it keeps and under which names, and
//! checks them when they come back; the index file only frames, checksums and maps them. A change of
//! layout therefore touches the structure's own crate and nothing else: the index never names a field.

use crate::column::{plain_bytes, Backing, Column, Plain};
use crate::graph::GraphError;
use std::collections::HashMap;

/// The longest column name an index file holds.
pub const MAX_NAME: usize = 32;

/// One named array, written as it sits in memory.
pub struct SavedColumn<'a> {
    pub name: String,
    pub elem_size: u32,
    data: Data<'a>,
}

enum Data<'a> {
    Borrowed(&'a [u8]),
    Owned(Box<dyn OwnedBytes + 'a>),
}

/// Values a structure made only to save them, or shares with the saved file: kept as they are, so
/// nothing is copied into bytes.
trait OwnedBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl<T: Plain> OwnedBytes for Column<T> {
    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl SavedColumn<'_> {
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Borrowed(bytes) => bytes,
            Data::Owned(values) => values.bytes(),
        }
    }
}

/// The columns structures hand over for one index file, in the order they were put.
#[derive(Default)]
pub struct SavedColumns<'a> {
    columns: Vec<SavedColumn<'a>>,
}

impl<'a> SavedColumns<'a> {
    /// Keeps `values` under `name` (at most [`MAX_NAME`] bytes, unique in the file).
    pub fn put<T: Plain>(&mut self, name: impl Into<String>, values: &'a [T]) {
        self.push(
            name.into(),
            size_of::<T>(),
            Data::Borrowed(plain_bytes(values)),
        );
    }

    /// Keeps values made only to be saved, or a column shared with the structure.
    pub fn put_owned<T: Plain>(&mut self, name: impl Into<String>, values: impl Into<Column<T>>) {
        let values: Column<T> = values.into();
        self.push(name.into(), size_of::<T>(), Data::Owned(Box::new(values)));
    }

    /// Keeps values that are borrowed or made, as the structure has them.
    pub fn put_cow<T: Plain>(
        &mut self,
        name: impl Into<String>,
        values: std::borrow::Cow<'a, [T]>,
    ) {
        match values {
            std::borrow::Cow::Borrowed(values) => self.put(name, values),
            std::borrow::Cow::Owned(values) => self.put_owned(name, values),
        }
    }

    fn push(&mut self, name: String, elem_size: usize, data: Data<'a>) {
        debug_assert!(name.len() <= MAX_NAME, "column name {name} is too long");
        self.columns.push(SavedColumn {
            name,
            elem_size: elem_size as u32,
            data,
        });
    }

    pub fn columns(&self) -> &[SavedColumn<'a>] {
        &self.columns
    }

    /// The columns laid out in one buffer, each at an 8-byte boundary, and where each lies: a file's
    /// worth without the file, for checking a structure's round trip through [`MappedColumns`].
    pub fn to_backing(&self) -> (Backing, Vec<(String, ColumnPlace)>) {
        let mut words: Vec<u64> = Vec::new();
        let mut places = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let bytes = c.bytes();
            let offset = words.len() * 8;
            words.extend(bytes.chunks(8).map(|chunk| {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                u64::from_ne_bytes(word)
            }));
            let place = ColumnPlace {
                offset,
                count: bytes.len() / c.elem_size as usize,
                elem_size: c.elem_size,
            };
            places.push((c.name.clone(), place));
        }
        (std::sync::Arc::new(Words(words)), places)
    }
}

/// Bytes kept as words, so that every column laid out at a multiple of 8 is aligned.
struct Words(Vec<u64>);

impl AsRef<[u8]> for Words {
    fn as_ref(&self) -> &[u8] {
        plain_bytes(&self.0)
    }
}

/// Where one column lies in a mapped file.
#[derive(Clone, Copy, Debug)]
pub struct ColumnPlace {
    pub offset: usize,
    pub count: usize,
    pub elem_size: u32,
}

/// The columns of a checked index file, by name, read in place from its mapping.
pub struct MappedColumns<'a> {
    backing: &'a Backing,
    places: HashMap<String, ColumnPlace>,
}

impl<'a> MappedColumns<'a> {
    pub fn new(backing: &'a Backing) -> Self {
        MappedColumns {
            backing,
            places: HashMap::new(),
        }
    }

    /// The columns at `places` in `backing`.
    pub fn with_places(
        backing: &'a Backing,
        places: impl IntoIterator<Item = (String, ColumnPlace)>,
    ) -> Result<Self, GraphError> {
        let mut columns = MappedColumns::new(backing);
        for (name, place) in places {
            columns.insert(name, place)?;
        }
        Ok(columns)
    }

    /// Adds a column; a name given twice is refused.
    pub fn insert(&mut self, name: String, place: ColumnPlace) -> Result<(), GraphError> {
        if self.places.contains_key(&name) {
            return Err(GraphError::Saved(format!("column {name} appears twice")));
        }
        self.places.insert(name, place);
        Ok(())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.places.contains_key(name)
    }

    /// The element size the column `name` was written with.
    pub fn elem_size(&self, name: &str) -> Option<u32> {
        self.places.get(name).map(|p| p.elem_size)
    }

    /// The column `name`, which must hold values of `T`.
    pub fn column<T: Plain>(&self, name: &str) -> Result<Column<T>, GraphError> {
        let place = self
            .places
            .get(name)
            .ok_or_else(|| GraphError::Saved(format!("column {name} is missing")))?;
        if place.elem_size as usize != size_of::<T>() {
            return Err(GraphError::Saved(format!(
                "column {name} has {}-byte elements, expected {}",
                place.elem_size,
                size_of::<T>()
            )));
        }
        Column::mapped(self.backing, place.offset, place.count)
            .map_err(|e| GraphError::Saved(format!("column {name}: {}", e.0)))
    }

    /// The column `name` as UTF-8 text.
    pub fn text(&self, name: &str) -> Result<String, GraphError> {
        let bytes: Column<u8> = self.column(name)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| GraphError::Saved(format!("column {name} is not UTF-8 text")))
    }
}

/// Checks that the columns of one table, of these lengths, are as long as each other.
pub fn same_lengths(what: &str, lengths: &[usize]) -> Result<(), GraphError> {
    match lengths.windows(2).all(|w| w[0] == w[1]) {
        true => Ok(()),
        false => Err(GraphError::Saved(format!(
            "the columns of its {what} disagree in length"
        ))),
    }
}
