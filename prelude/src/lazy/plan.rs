//! The plan: [`LazyArray`] (a node, its shape and chunks) and the nodes it is built of.
//! Built-in operations are plain data; `map`, `map_blocks` and `from_fn` hold a user's function.

use super::generators::Generator;
use super::user_fn::UserFn;
use crate::error::Error;
use crate::zarr::dtype::{with_dtype, Dtype};
use crate::zarr::{Element, ZarrArray};
use ndarray::ArrayD;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Memory for chunks in flight when nothing else is set: a 4 GB JupyterHub pod keeps room,
/// and 8 blocks of 4 MB in flight already keep the network busy.
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 << 20;

/// A lazy, chunked n-dimensional array of f64 values, like a `dask.array.Array`.
///
/// Cheap to clone (it shares its plan). Build one with [`from_zarr`](super::from_zarr) or a
/// generator ([`random`](super::random), [`normal`](super::normal), …), combine with `+ - * /` (between arrays and with `f64`), then call
/// [`store`](LazyArray::store), [`compute`](LazyArray::compute) or a reduction.
#[derive(Clone)]
pub struct LazyArray {
    pub(crate) node: Arc<Node>,
    pub(crate) shape: Vec<u64>,
    pub(crate) chunks: Vec<u64>,
    pub(crate) dtype: Dtype,
    pub(crate) budget: u64,
}

impl LazyArray {
    pub(crate) fn new(node: Node, shape: Vec<u64>, chunks: Vec<u64>, dtype: Dtype) -> Self {
        // Chunks are at least 1 and at most the dimension (a 0-length dimension keeps 1).
        let chunks = chunks.iter().zip(&shape).map(|(&c, &s)| c.clamp(1, s.max(1))).collect();
        LazyArray { node: Arc::new(node), shape, chunks, dtype, budget: DEFAULT_MEMORY_BUDGET }
    }

    /// A lazy view of a Zarr array, chunked like it.
    pub(crate) fn zarr(z: &ZarrArray) -> Self {
        if !z.dtype().is_numeric() {
            return LazyArray::failed(z.dtype().not_numeric("a lazy array", &z.url()));
        }
        LazyArray::new(Node::Zarr(Box::new(z.clone())), z.shape().to_vec(), z.chunks().to_vec(), z.dtype())
    }

    /// The Zarr array this is a plain view of (`from_zarr(&z)`), if it is one.
    pub(crate) fn zarr_source(&self) -> Option<&ZarrArray> {
        match &*self.node {
            Node::Zarr(z) => Some(z),
            _ => None,
        }
    }

    /// A node over `self` with the same shape and chunks.
    pub(crate) fn derive(&self, node: Node, dtype: Dtype) -> Self {
        LazyArray { node: Arc::new(node), dtype, ..self.clone() }
    }

    /// An array that fails with `e` when evaluated (operators cannot return errors).
    pub(crate) fn failed(e: Error) -> Self {
        LazyArray::new(Node::Fail(e), vec![], vec![], Dtype::Float64)
    }

    /// The shape.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }
    /// The chunk shape (edge chunks are cut at the shape).
    pub fn chunks(&self) -> &[u64] {
        &self.chunks
    }
    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    /// The dtype values are rounded to when stored or computed (arithmetic makes `float64`).
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.shape.iter().product()
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Chunks per dimension.
    pub fn chunk_grid(&self) -> Vec<u64> {
        self.shape.iter().zip(&self.chunks).map(|(s, c)| s.div_ceil(*c)).collect()
    }
    /// Bytes of the values as f64 (what `compute` allocates).
    pub fn nbytes(&self) -> u64 {
        self.len() * 8
    }
    /// Chunk tasks of the whole plan: one per output chunk of every node (dask's task count).
    pub fn tasks(&self) -> u64 {
        self.node.tasks() + self.chunk_grid().iter().product::<u64>()
    }
    /// The memory budget for chunks in flight (bytes): `compute`, `store` and reductions keep
    /// fewer chunks in flight when chunks are large, so peak memory follows this, not the array.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.budget = bytes.max(1);
        self
    }
    /// The memory budget in bytes (default [`DEFAULT_MEMORY_BUDGET`]).
    pub fn budget(&self) -> u64 {
        self.budget
    }
    /// The chunks tasks are cut by when only performance depends on it (`compute`, `store`,
    /// reductions): a `rechunk` on top changes how `map_blocks` and the display see the array,
    /// not which input chunks each task reads, so its input's chunks are used.
    pub(crate) fn source_chunks(&self) -> &[u64] {
        match &*self.node {
            Node::Rechunk(x) => x.source_chunks(),
            _ => &self.chunks,
        }
    }
    /// The plan as text, one node per line: what will run (built-in operations are data;
    /// user functions show as `map(<fn>)`).
    pub fn plan(&self) -> String {
        let mut out = String::new();
        self.node.describe(&self.shape, 0, &mut out);
        out
    }
}

/// One step of a plan. Built-in operations are plain data; `Map`, `MapBlocks` and a `from_fn`
/// generator hold a user's function (`user_fn.rs`).
pub(crate) enum Node {
    Zarr(Box<ZarrArray>),
    Gen(Generator),
    Unary(Unary, LazyArray),
    /// `x op s`, or `s op x` when the flag is set.
    Scalar(Binary, LazyArray, f64, bool),
    Binary(Binary, LazyArray, LazyArray),
    /// `f(value)` on every element of the input.
    Map(UserFn, LazyArray),
    /// `f(block, region)` on each chunk of the input (output chunks = input chunks).
    MapBlocks(UserFn, LazyArray),
    /// The input from these offsets on, with the node's shape.
    Slice(Vec<u64>, LazyArray),
    /// The input in the node's chunks (its values unchanged).
    Rechunk(LazyArray),
    /// The input without these axes, each of length 1 (`x[:, 0]` after a slice `i..i+1`).
    Squeeze(Vec<usize>, LazyArray),
    /// One value everywhere (a 0-d array: broadcasts to any shape).
    Const(f64),
    /// Values already in memory (an ndarray handed to a plan).
    Memory(Arc<ArrayD<f64>>),
    /// `a` where `cond` is true (not 0, not NaN), else `b`, like `np.where`.
    Where(LazyArray, LazyArray, LazyArray),
    Reduced(Reduced),
    /// An operation that could not be built (e.g. shapes that do not broadcast).
    Fail(Error),
}

/// Element-wise operations on one array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unary {
    Neg,
    Abs,
    Sqrt,
    Exp,
    Log,
    Clip(f64, f64),
    /// Round to the values of a dtype (`astype`).
    Cast(Dtype),
    /// 1 where NaN, else 0.
    IsNan,
    /// To the nearest integer, halves to even (`np.round`).
    Round,
    /// NaN where the value equals this one (`np.ma.masked_equal`, a CF fill value).
    MaskedEqual(f64),
    /// This value where NaN (xarray's `fillna`).
    FillNa(f64),
}

/// Element-wise operations on two operands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    /// Comparisons give 1 (true) or 0 (false); NaN compares false (not equal), like numpy.
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl Unary {
    pub(crate) fn apply(self, v: f64) -> f64 {
        match self {
            Unary::Neg => -v,
            Unary::Abs => v.abs(),
            Unary::Sqrt => v.sqrt(),
            Unary::Exp => v.exp(),
            Unary::Log => v.ln(),
            Unary::Clip(lo, hi) => v.clamp(lo, hi),
            // `astype` takes numeric dtypes only.
            Unary::Cast(d) => with_dtype!(d, T => T::from_f64(v).to_f64(), _d => v),
            Unary::IsNan => f64::from(u8::from(v.is_nan())),
            Unary::Round => v.round_ties_even(),
            Unary::FillNa(f) => {
                if v.is_nan() {
                    f
                } else {
                    v
                }
            }
            Unary::MaskedEqual(m) => {
                if v == m {
                    f64::NAN
                } else {
                    v
                }
            }
        }
    }
}

impl Binary {
    pub(crate) fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Gt => f64::from(u8::from(a > b)),
            Binary::Ge => f64::from(u8::from(a >= b)),
            Binary::Lt => f64::from(u8::from(a < b)),
            Binary::Le => f64::from(u8::from(a <= b)),
            Binary::Eq => f64::from(u8::from(a == b)),
            Binary::Ne => f64::from(u8::from(a != b)),
        }
    }
    /// Every operation, for parsing a symbol back (`lazy/serial.rs`).
    pub(crate) const ALL: [Binary; 10] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Gt,
        Binary::Ge,
        Binary::Lt,
        Binary::Le,
        Binary::Eq,
        Binary::Ne,
    ];
    /// Whether the result is true/false (stored as `bool`).
    pub(crate) fn is_comparison(self) -> bool {
        !matches!(self, Binary::Add | Binary::Sub | Binary::Mul | Binary::Div)
    }
    /// The operator as written: `+`, `>=`, ...
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Binary::Add => "+",
            Binary::Sub => "-",
            Binary::Mul => "*",
            Binary::Div => "/",
            Binary::Gt => ">",
            Binary::Ge => ">=",
            Binary::Lt => "<",
            Binary::Le => "<=",
            Binary::Eq => "==",
            Binary::Ne => "!=",
        }
    }
}

impl Node {
    /// The arrays this node computes from.
    fn children(&self) -> Vec<&LazyArray> {
        match self {
            Node::Zarr(_) | Node::Gen(_) | Node::Const(_) | Node::Memory(_) | Node::Fail(_) => vec![],
            Node::Unary(_, x)
            | Node::Scalar(_, x, _, _)
            | Node::Map(_, x)
            | Node::MapBlocks(_, x)
            | Node::Slice(_, x)
            | Node::Squeeze(_, x)
            | Node::Rechunk(x) => {
                vec![x]
            }
            Node::Binary(_, a, b) => vec![a, b],
            Node::Where(c, a, b) => vec![c, a, b],
            Node::Reduced(r) => vec![&r.x],
        }
    }

    /// Chunk tasks below this node (sources count one per chunk read).
    pub(crate) fn tasks(&self) -> u64 {
        self.children().iter().map(|x| x.node.tasks() + x.chunk_grid().iter().product::<u64>()).sum()
    }

    pub(crate) fn describe(&self, shape: &[u64], depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        let line = match self {
            Node::Zarr(z) => format!("from_zarr({}) {shape:?}", z.url()),
            Node::Gen(g) => format!("{g:?}"),
            Node::Unary(op, _) => format!("{op:?} {shape:?}").to_lowercase(),
            Node::Scalar(op, _, s, false) => format!("x {} {s} {shape:?}", op.symbol()),
            Node::Scalar(op, _, s, true) => format!("{s} {} x {shape:?}", op.symbol()),
            Node::Binary(op, ..) => format!("a {} b {shape:?}", op.symbol()),
            Node::Map(f, _) | Node::MapBlocks(f, _) => {
                format!("{}(<fn>) {shape:?}{}", f.form.name(), f.where_it_runs())
            }
            Node::Slice(offsets, _) => format!("slice from {offsets:?} {shape:?}"),
            Node::Rechunk(_) => format!("rechunk {shape:?}"),
            Node::Squeeze(axes, _) => format!("squeeze axes {axes:?} {shape:?}"),
            Node::Const(v) => format!("{v}"),
            Node::Memory(_) => format!("array in memory {shape:?}"),
            Node::Where(..) => format!("where(cond, a, b) {shape:?}"),
            Node::Reduced(r) => format!("{} over axes {:?} {shape:?}", r.op.name(), r.axes),
            Node::Fail(e) => format!("error: {}", e.message()),
        };
        let _ = writeln!(out, "{pad}{line}");
        for x in self.children() {
            x.node.describe(&x.shape, depth + 1, out);
        }
    }

    /// Every reduction under this node, children first (they run before their parents).
    pub(crate) fn reductions<'a>(&'a self, out: &mut Vec<&'a Reduced>) {
        for x in self.children() {
            x.node.reductions(out);
        }
        if let Node::Reduced(r) = self {
            out.push(r);
        }
    }

    /// The first construction error in the plan.
    pub(crate) fn failure(&self) -> Option<&Error> {
        match self {
            Node::Fail(e) => Some(e),
            _ => self.children().into_iter().find_map(|x| x.node.failure()),
        }
    }

    /// The largest number of blocks alive at once while one block of this node is computed.
    pub(crate) fn depth(&self) -> u64 {
        match self {
            // Its blocks are slices of its kept result: its input is not evaluated then.
            Node::Reduced(_) => 1,
            // Passes its input's blocks through.
            Node::Rechunk(x) => x.node.depth(),
            _ => 1 + self.children().iter().map(|x| x.node.depth()).sum::<u64>(),
        }
    }
}

/// What a reduction computes; `nan` skips NaN values (numpy's `nan…` functions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reduction {
    pub(crate) op: Op,
    pub(crate) nan: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    Sum,
    Mean,
    Min,
    Max,
    Var,
    Std,
    Count,
}

impl Op {
    /// Every reduction, for parsing a name back (`lazy/serial.rs`).
    pub(crate) const ALL: [Op; 7] = [Op::Sum, Op::Mean, Op::Min, Op::Max, Op::Var, Op::Std, Op::Count];
}

impl Reduction {
    /// Whether it needs the running mean and squared deviations (variance, std).
    pub(crate) fn moments(self) -> bool {
        matches!(self.op, Op::Var | Op::Std)
    }

    pub(crate) fn name(self) -> String {
        format!("{}{:?}", if self.nan && self.op != Op::Count { "nan" } else { "" }, self.op).to_lowercase()
    }
}

/// A reduction node: its input, the axes it removes, and its result once computed.
pub(crate) struct Reduced {
    pub(crate) op: Reduction,
    pub(crate) axes: Vec<usize>,
    pub(crate) x: LazyArray,
    pub(crate) value: Mutex<Option<Arc<ArrayD<f64>>>>,
    /// Where a cluster run stored the result, so that a plan sent to workers reads it there
    /// instead of computing it again.
    pub(crate) stored: Mutex<Option<Box<ZarrArray>>>,
}

impl Reduced {
    /// A reduction not computed yet.
    pub(crate) fn new(op: Reduction, axes: Vec<usize>, x: LazyArray) -> Reduced {
        Reduced { op, axes, x, value: Mutex::new(None), stored: Mutex::new(None) }
    }

    /// The array a cluster run stored the result in, if any.
    pub(crate) fn stored_array(&self) -> Option<ZarrArray> {
        self.stored.lock().unwrap_or_else(|p| p.into_inner()).as_deref().cloned()
    }

    /// Record (or, with `None`, forget) where the result is stored; returns what was recorded.
    pub(crate) fn set_stored(&self, z: Option<ZarrArray>) -> Option<ZarrArray> {
        std::mem::replace(&mut *self.stored.lock().unwrap_or_else(|p| p.into_inner()), z.map(Box::new)).map(|b| *b)
    }
}
