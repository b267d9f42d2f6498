//! A plan as JSON, to run it somewhere else: [`LazyArray::to_json`] and
//! [`LazyArray::from_json`].
//!
//! Every built-in node is data: an operation name and its operands. Zarr sources are their URL
//! and, for S3, the endpoint, region and whether requests are signed; never credentials (the
//! machine that runs the plan brings its own, the AWS way: environment or profile). A user's
//! function (`map`, `map_blocks`, `from_fn`) is the hash of the cell library it is compiled
//! into, its entry's offset there and its parameters (`native.rs`, `user_fn.rs`), never code:
//! a cluster job ships the libraries, and a worker loads them before it reads the plan.

use super::generators::{Generator, Kind};
use super::native::{self, Library};
use super::plan::{Binary, LazyArray, Node, Op, Reduced, Reduction, Unary};
use super::user_fn::{Form, UserFn};
use crate::error::{Error, Result};
use crate::fs::S3FileSystem;
use crate::zarr::location::Location;
use crate::zarr::{Dtype, ZarrArray};
use serde_json::{json, Value};

/// The version tag every plan document carries.
const FORMAT: &str = "zarr-kernel-plan/1";

const UNARY: [(Unary, &str); 7] = [
    (Unary::Neg, "neg"),
    (Unary::Abs, "abs"),
    (Unary::Sqrt, "sqrt"),
    (Unary::Exp, "exp"),
    (Unary::Log, "log"),
    (Unary::IsNan, "isnan"),
    (Unary::Round, "round"),
];
fn local_only(what: &str) -> Error {
    Error::invalid(format!(
        "{what} is in this kernel's memory only and cannot be sent to another machine; \
         store it in a Zarr array and use from_zarr, or build it from generators and built-in operations"
    ))
}

/// Why a user's function cannot go to workers.
fn not_shippable(f: &UserFn, why: &str) -> Error {
    Error::invalid(format!(
        "{}'s function cannot be sent to workers: {why}; only functions written in a notebook cell of the Rust (Zarr) kernel can",
        f.form.name()
    ))
}

fn user_fn_json(f: &UserFn, libs: &mut Vec<Library>) -> Result<Value> {
    if f.captures > 0 {
        let name = f.form.name();
        return Err(Error::invalid(format!(
            "{name}'s closure captures values of the cell ({} bytes), which cannot be sent to workers; \
             pass them as parameters and capture nothing: {name}_with(params, |p, …| …)",
            f.captures
        )));
    }
    let (path, offset) = native::locate(f.entry as usize).map_err(|why| not_shippable(f, &why))?;
    let sha256 = native::sha256(&path).map_err(|why| not_shippable(f, &why))?;
    if !libs.iter().any(|l| l.sha256 == sha256) {
        libs.push(Library { path, sha256: sha256.clone() });
    }
    // The parameters as the text both sides read (the same bytes, so the same values).
    Ok(json!({"lib": sha256, "offset": offset, "params": &*f.params}))
}

fn user_fn_from(form: Form, v: &Value) -> Result<UserFn> {
    let (Some(lib), Some(offset), Some(params)) = (v["lib"].as_str(), v["offset"].as_u64(), v["params"].as_str())
    else {
        return Err(bad(format!("{} needs lib, offset and params", form.name())));
    };
    let entry = native::entry(lib, offset).map_err(|why| {
        Error::invalid(format!(
            "the plan's {} calls a notebook cell's function ({why}); zarr-task loads cell libraries from a cluster job",
            form.name()
        ))
    })?;
    Ok(UserFn::loaded(form, entry, params.to_string()))
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("not a lazy-array plan ({FORMAT}): {why}; make it with LazyArray::to_json"))
}

impl LazyArray {
    /// The plan as a JSON document: every node, no values, no credentials; a user's function
    /// as its cell library's hash and its offset there. Fails (one line) for what cannot be
    /// sent: an in-memory array, a closure that captures values.
    pub fn to_json(&self) -> Result<Value> {
        self.to_json_shipping().map(|(doc, _)| doc)
    }

    /// The plan as [`to_json`](LazyArray::to_json) writes it, and the cell libraries its user
    /// functions are in (a cluster job ships them).
    pub(crate) fn to_json_shipping(&self) -> Result<(Value, Vec<Library>)> {
        if let Some(e) = self.node.failure() {
            return Err(e.clone());
        }
        let mut libs = vec![];
        let doc = json!({"format": FORMAT, "budget": self.budget, "array": array_json(self, &mut libs)?});
        Ok((doc, libs))
    }

    /// The plan [`to_json`](LazyArray::to_json) wrote, its Zarr sources opened here (with this
    /// machine's credentials for signed endpoints). A plan with user functions needs their
    /// libraries loaded first (zarr-task does, from a cluster job).
    pub fn from_json(doc: &Value) -> Result<LazyArray> {
        if doc["format"] != FORMAT {
            return Err(bad(format!("its format is {}", doc["format"])));
        }
        let mut x = array_from(&doc["array"])?;
        if let Some(b) = doc["budget"].as_u64() {
            x = x.memory_budget(b);
        }
        Ok(x)
    }
}

fn name<T: PartialEq + Copy>(table: &[(T, &'static str)], v: T) -> &'static str {
    table.iter().find(|(t, _)| *t == v).map(|(_, n)| *n).unwrap_or("?")
}

fn array_json(x: &LazyArray, libs: &mut Vec<Library>) -> Result<Value> {
    let node = match &*x.node {
        Node::Zarr(z) => json!({"zarr": where_json(&z.loc)?}),
        Node::Gen(g) => json!({"generator": g.to_json(libs)?}),
        Node::Unary(Unary::Clip(lo, hi), a) => json!({"clip": [lo, hi], "x": array_json(a, libs)?}),
        Node::Unary(Unary::Cast(d), a) => json!({"astype": d.name(), "x": array_json(a, libs)?}),
        Node::Unary(Unary::MaskedEqual(v), a) => json!({"masked_equal": v, "x": array_json(a, libs)?}),
        Node::Unary(Unary::FillNa(v), a) => json!({"fillna": v, "x": array_json(a, libs)?}),
        Node::Unary(op, a) => json!({"unary": name(&UNARY, *op), "x": array_json(a, libs)?}),
        Node::Scalar(op, a, s, left) => {
            json!({"scalar": op.symbol(), "value": s, "left": left, "x": array_json(a, libs)?})
        }
        Node::Binary(op, a, b) => json!({"binary": op.symbol(), "a": array_json(a, libs)?, "b": array_json(b, libs)?}),
        Node::Where(c, a, b) => json!({"where": [array_json(c, libs)?, array_json(a, libs)?, array_json(b, libs)?]}),
        Node::Const(v) => json!({"const": v}),
        Node::Slice(offsets, a) => json!({"slice": offsets, "x": array_json(a, libs)?}),
        Node::Rechunk(a) => json!({"rechunk": array_json(a, libs)?}),
        Node::Squeeze(axes, a) => json!({"squeeze": axes, "x": array_json(a, libs)?}),
        // A reduction a cluster run already stored is read there, not computed again.
        Node::Reduced(r) => match r.stored_array() {
            Some(z) => json!({"zarr": where_json(&z.loc)?}),
            None => json!({"reduce": r.op.name(), "axes": r.axes, "x": array_json(&r.x, libs)?}),
        },
        Node::Map(f, a) => json!({"map": user_fn_json(f, libs)?, "x": array_json(a, libs)?}),
        Node::MapBlocks(f, a) => json!({"map_blocks": user_fn_json(f, libs)?, "x": array_json(a, libs)?}),
        Node::Memory(_) => return Err(local_only("an in-memory array")),
        Node::Fail(e) => return Err(e.clone()),
    };
    Ok(json!({"shape": x.shape, "chunks": x.chunks, "dtype": x.dtype.name(), "node": node}))
}

/// Where a node lives, as plan documents say it: its URL and, in an object store, the
/// endpoint, region and whether requests are signed (never credentials). An Icechunk session's
/// uncommitted writes are in this kernel only, so its arrays cannot go to workers.
pub(crate) fn where_json(loc: &Location) -> Result<Value> {
    if let Location::Icechunk { .. } = loc {
        return Err(Error::invalid(format!(
            "{} is in an Icechunk session, which workers cannot reach; compute or store it in the kernel \
             (compute(), store()), or run on the cluster into plain Zarr and copy it into the session",
            loc.url()
        )));
    }
    let mut w = json!({"url": loc.url()});
    if let Location::S3 { fs, .. } = loc {
        let c = fs.config();
        w["endpoint"] = json!(c.endpoint());
        w["region"] = json!(c.region());
        w["anonymous"] = json!(c.is_anonymous());
    }
    Ok(w)
}

/// The location [`where_json`] described, reached with this machine's credentials; `None`
/// when it has no URL.
pub(crate) fn where_from(w: &Value) -> Result<Option<Location>> {
    let Some(url) = w["url"].as_str() else { return Ok(None) };
    let fs = match w["endpoint"].as_str() {
        Some(ep) => {
            let b = S3FileSystem::builder().endpoint_url(ep).region(w["region"].as_str().unwrap_or(""));
            Some(b.anon(w["anonymous"].as_bool().unwrap_or(false)).build()?)
        }
        None => None,
    };
    Location::parse(url, fs.as_ref()).map(Some)
}

fn lookup<T: Copy>(table: &[(T, &'static str)], v: &Value, what: &str) -> Result<T> {
    table.iter().find(|(_, n)| v == *n).map(|(t, _)| *t).ok_or_else(|| bad(format!("unknown {what} {v}")))
}

/// The operator `to_json` wrote with [`Binary::symbol`].
fn operator(v: &Value) -> Result<Binary> {
    Binary::ALL.into_iter().find(|b| v == b.symbol()).ok_or_else(|| bad(format!("unknown operator {v}")))
}

/// The reduction `to_json` wrote with [`Reduction::name`] (`count` skips NaN by definition).
pub(crate) fn reduction(v: &Value) -> Result<Reduction> {
    let all = Op::ALL.into_iter().flat_map(|op| [false, true].map(|nan| Reduction { op, nan: nan || op == Op::Count }));
    all.into_iter().find(|r| v == r.name().as_str()).ok_or_else(|| bad(format!("unknown reduction {v}")))
}

fn f64_of(v: &Value, what: &str) -> Result<f64> {
    // JSON has no NaN or infinity: serde_json writes them as null.
    if v.is_null() {
        return Ok(f64::NAN);
    }
    v.as_f64().ok_or_else(|| bad(format!("{what} must be a number, not {v}")))
}

fn dims(v: &Value, what: &str) -> Result<Vec<u64>> {
    serde_json::from_value(v.clone()).map_err(|_| bad(format!("'{what}' must be a list of lengths, not {v}")))
}

fn array_from(v: &Value) -> Result<LazyArray> {
    let (shape, chunks) = (dims(&v["shape"], "shape")?, dims(&v["chunks"], "chunks")?);
    let dtype = Dtype::parse(v["dtype"].as_str().unwrap_or("?"))?;
    let n = &v["node"];
    let x = |k: &str| array_from(&n[k]);
    let node = if let Some(src) = n.get("zarr") {
        let z = ZarrArray::open_at(where_from(src)?.ok_or_else(|| bad("a zarr source without a url"))?)?;
        let url = z.url();
        if z.shape() != shape.as_slice() {
            return Err(Error::invalid(format!(
                "{url} now has shape {:?}, the plan was made for {shape:?}; rebuild the plan",
                z.shape()
            )));
        }
        Node::Zarr(Box::new(z))
    } else if let Some(g) = n.get("generator") {
        Node::Gen(Generator::from_json(g)?)
    } else if let Some(f) = n.get("map") {
        Node::Map(user_fn_from(Form::Map, f)?, x("x")?)
    } else if let Some(f) = n.get("map_blocks") {
        Node::MapBlocks(user_fn_from(Form::MapBlocks, f)?, x("x")?)
    } else if let Some(c) = n.get("clip") {
        Node::Unary(Unary::Clip(f64_of(&c[0], "clip")?, f64_of(&c[1], "clip")?), x("x")?)
    } else if let Some(v) = n.get("fillna") {
        Node::Unary(Unary::FillNa(f64_of(v, "fillna")?), x("x")?)
    } else if let Some(v) = n.get("masked_equal") {
        Node::Unary(Unary::MaskedEqual(f64_of(v, "masked_equal")?), x("x")?)
    } else if let Some(d) = n.get("astype") {
        Node::Unary(Unary::Cast(Dtype::parse(d.as_str().unwrap_or("?"))?), x("x")?)
    } else if let Some(op) = n.get("unary") {
        Node::Unary(lookup(&UNARY, op, "operation")?, x("x")?)
    } else if let Some(op) = n.get("scalar") {
        let left = n["left"].as_bool().unwrap_or(false);
        Node::Scalar(operator(op)?, x("x")?, f64_of(&n["value"], "value")?, left)
    } else if let Some(op) = n.get("binary") {
        Node::Binary(operator(op)?, x("a")?, x("b")?)
    } else if let Some(w) = n.get("where") {
        Node::Where(array_from(&w[0])?, array_from(&w[1])?, array_from(&w[2])?)
    } else if let Some(c) = n.get("const") {
        Node::Const(f64_of(c, "const")?)
    } else if let Some(o) = n.get("slice") {
        Node::Slice(dims(o, "slice")?, x("x")?)
    } else if let Some(a) = n.get("squeeze") {
        let axes = serde_json::from_value(a.clone()).map_err(|_| bad("'squeeze' must be a list of axes"))?;
        Node::Squeeze(axes, x("x")?)
    } else if let Some(a) = n.get("rechunk") {
        Node::Rechunk(array_from(a)?)
    } else if let Some(r) = n.get("reduce") {
        let axes = serde_json::from_value(n["axes"].clone()).map_err(|_| bad("'axes' must be a list"))?;
        Node::Reduced(Reduced::new(reduction(r)?, axes, x("x")?))
    } else {
        return Err(bad(format!("unknown node {n}")));
    };
    Ok(LazyArray::new(node, shape, chunks, dtype))
}

/// Generators as data (`from_fn`: its user function).
trait GeneratorJson: Sized {
    fn to_json(&self, libs: &mut Vec<Library>) -> Result<Value>;
    fn from_json(v: &Value) -> Result<Self>;
}

impl GeneratorJson for Generator {
    /// The generator as JSON data (shape, chunks, kind, seed).
    fn to_json(&self, libs: &mut Vec<Library>) -> Result<Value> {
        let kind = match &self.kind {
            Kind::Uniform { low, high } => json!({"uniform": [low, high]}),
            Kind::Normal { mean, std } => json!({"normal": [mean, std]}),
            Kind::Full(v) => json!({"full": v}),
            Kind::Func(f) => json!({"from_fn": user_fn_json(f, libs)?}),
        };
        Ok(json!({"shape": self.shape, "chunks": self.chunks, "kind": kind, "seed": self.seed}))
    }

    /// The generator [`Generator::to_json`] described, or why the JSON is not one.
    fn from_json(v: &Value) -> Result<Self> {
        let dims = |k: &str| -> Result<Vec<u64>> {
            serde_json::from_value(v[k].clone()).map_err(|_| bad(format!("generator: '{k}' must be a list of lengths")))
        };
        let pair = |k: &str| -> Option<(f64, f64)> { Some((v["kind"][k][0].as_f64()?, v["kind"][k][1].as_f64()?)) };
        let kind = if let Some((low, high)) = pair("uniform") {
            Kind::Uniform { low, high }
        } else if let Some((mean, std)) = pair("normal") {
            Kind::Normal { mean, std }
        } else if let Some(x) = v["kind"]["full"].as_f64() {
            Kind::Full(x)
        } else if let Some(f) = v["kind"].get("from_fn") {
            Kind::Func(user_fn_from(Form::FromFn, f)?)
        } else {
            return Err(bad(format!("generator: unknown kind {}", v["kind"])));
        };
        let seed = v["seed"].as_u64().ok_or_else(|| bad("generator: 'seed' must be an unsigned integer"))?;
        Ok(Generator { shape: dims("shape")?, chunks: dims("chunks")?, kind, seed })
    }
}
