//! A user's function in a plan (`map`, `map_blocks`, `from_fn`, and their `_with` forms that
//! take parameters).
//!
//! Each function is called through one C-ABI *entry*, a generic function of this module that
//! the compiler instantiates for the user's closure in the library of the notebook cell that
//! wrote it. The kernel calls the closure through that entry; a worker loads the same library
//! (`native.rs`) and calls the same entry, the same machine code, so the values are the same
//! to the bit. A closure that captures nothing is its type alone: the entry makes it from
//! nothing. Values the function needs travel as parameters (`map_with(params, |p, v| …)`),
//! JSON read back through serde in the kernel and on workers alike. A capturing closure still
//! runs here; only sending it is refused. `#[repr(C)]` on [`Call`]: the kernel's prelude and a
//! worker's `zarr-task` are two builds of it.

use super::grid::lens;
use crate::error::{panic_text, Error, ErrorKind, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use serde::de::DeserializeOwned;
use std::any::Any;
use std::ffi::c_void;
use std::ops::Range;
use std::ptr::NonNull;
use std::sync::Arc;

/// What a user's function does to a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Form {
    /// `f(value)` for every element.
    Map,
    /// `f(block, region)` for every input chunk.
    MapBlocks,
    /// `f(index)` for every element of a new array.
    FromFn,
}

impl Form {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Form::Map => "map",
            Form::MapBlocks => "map_blocks",
            Form::FromFn => "from_fn",
        }
    }
}

/// One call of an entry: a block, where it lies, and the function's parameters.
#[repr(C)]
pub(crate) struct Call {
    /// The closure, or null when it captures nothing.
    env: *const c_void,
    /// The parameters, JSON.
    params: *const u8,
    params_len: usize,
    ndim: usize,
    /// The block's shape and its first element's index in the array.
    block: *const usize,
    origin: *const u64,
    /// `map_blocks`: the block's values in C order (else null).
    input: *const f64,
    /// The block's values in C order: `map` changes them in place, the others write them.
    output: *mut f64,
    /// Where an entry says why it failed.
    message: *mut u8,
    message_cap: usize,
    message_len: *mut usize,
}

/// An entry: 0 when the block is done, else 1 with the reason in the call's message.
pub(crate) type Entry = unsafe extern "C" fn(*const Call) -> i32;

/// A user's function, ready to call on blocks.
#[derive(Clone)]
pub(crate) struct UserFn {
    pub(crate) form: Form,
    pub(crate) entry: Entry,
    /// The closure, when it captures values (then it runs in this process only).
    env: Option<Arc<dyn Any + Send + Sync>>,
    /// Bytes the closure captures.
    pub(crate) captures: usize,
    /// The parameters, JSON.
    pub(crate) params: Arc<str>,
}

impl UserFn {
    /// `map_with`'s function and its parameters' JSON.
    pub(crate) fn for_map<P, F>(f: F, params: String) -> UserFn
    where
        P: DeserializeOwned,
        F: Fn(&P, f64) -> f64 + Send + Sync + 'static,
    {
        UserFn::new(Form::Map, map_entry::<P, F>, f, params)
    }

    /// `map_blocks_with`'s function and its parameters' JSON.
    pub(crate) fn for_map_blocks<P, F>(f: F, params: String) -> UserFn
    where
        P: DeserializeOwned,
        F: Fn(&P, ArrayViewD<'_, f64>, &[Range<u64>]) -> ArrayD<f64> + Send + Sync + 'static,
    {
        UserFn::new(Form::MapBlocks, map_blocks_entry::<P, F>, f, params)
    }

    /// `from_fn_with`'s function and its parameters' JSON.
    pub(crate) fn for_from_fn<P, F>(f: F, params: String) -> UserFn
    where
        P: DeserializeOwned,
        F: Fn(&P, &[u64]) -> f64 + Send + Sync + 'static,
    {
        UserFn::new(Form::FromFn, from_fn_entry::<P, F>, f, params)
    }

    /// The function `f` behind `entry` (an entry of this module instantiated for `F`), with
    /// its parameters as JSON.
    fn new<F: Send + Sync + 'static>(form: Form, entry: Entry, f: F, params: String) -> UserFn {
        let captures = size_of::<F>();
        let env = (captures > 0).then(|| Arc::new(f) as Arc<dyn Any + Send + Sync>);
        UserFn { form, entry, env, captures, params: params.into() }
    }

    /// The function a worker loaded: an entry whose closure captures nothing.
    pub(crate) fn loaded(form: Form, entry: Entry, params: String) -> UserFn {
        UserFn { form, entry, env: None, captures: 0, params: params.into() }
    }

    /// What a plan's text adds: where a capturing closure runs.
    pub(crate) fn where_it_runs(&self) -> &'static str {
        if self.captures > 0 {
            " (captures values: runs in this kernel only)"
        } else {
            ""
        }
    }

    /// `map`: every value of `block` through the function, in place.
    pub(crate) fn map(&self, block: &mut ArrayD<f64>) -> Result<()> {
        if !block.is_standard_layout() {
            *block = block.as_standard_layout().into_owned();
        }
        let shape = block.shape().to_vec();
        let data = block.as_slice_mut().expect("a standard-layout block is one slice");
        self.call(&shape, &vec![0; shape.len()], None, data)
    }

    /// `map_blocks`: the function's block for `block`, the values of `region`.
    pub(crate) fn map_blocks(&self, block: &ArrayD<f64>, region: &[Range<u64>]) -> Result<ArrayD<f64>> {
        let input = block.as_standard_layout();
        let mut out = ArrayD::<f64>::zeros(IxDyn(block.shape()));
        let origin: Vec<u64> = region.iter().map(|r| r.start).collect();
        let data = out.as_slice_mut().expect("a new array is one slice");
        self.call(block.shape(), &origin, input.as_slice(), data)?;
        Ok(out)
    }

    /// `from_fn`: the values of `region`, generated.
    pub(crate) fn generate(&self, region: &[Range<u64>]) -> Result<ArrayD<f64>> {
        let mut out = ArrayD::<f64>::zeros(IxDyn(&lens(region)));
        let origin: Vec<u64> = region.iter().map(|r| r.start).collect();
        let shape = out.shape().to_vec();
        self.call(&shape, &origin, None, out.as_slice_mut().expect("a new array is one slice"))?;
        Ok(out)
    }

    fn call(&self, block: &[usize], origin: &[u64], input: Option<&[f64]>, output: &mut [f64]) -> Result<()> {
        let mut message = vec![0u8; 2048];
        let mut message_len = 0usize;
        let env = self.env.as_ref().map_or(std::ptr::null(), |e| Arc::as_ptr(e) as *const c_void);
        let call = Call {
            env,
            params: self.params.as_ptr(),
            params_len: self.params.len(),
            ndim: block.len(),
            block: block.as_ptr(),
            origin: origin.as_ptr(),
            input: input.map_or(std::ptr::null(), <[f64]>::as_ptr),
            output: output.as_mut_ptr(),
            message: message.as_mut_ptr(),
            message_cap: message.len(),
            message_len: &mut message_len,
        };
        // SAFETY: `entry` is an entry of this module for this function's closure type (made
        // with it in `new`, or loaded from the library and offset the kernel recorded for it,
        // checked by hash); `call` points at live buffers of the lengths it gives.
        match unsafe { (self.entry)(&call) } {
            0 => Ok(()),
            _ => {
                let why = String::from_utf8_lossy(&message[..message_len.min(message.len())]).into_owned();
                Err(Error::new(ErrorKind::InvalidInput, format!("{}: {why}", self.form.name())))
            }
        }
    }
}

/// Run `body` on `call`, turning an error or a panic into the call's message.
///
/// # Safety
/// `call` points at a [`Call`] whose buffers are live for its lengths.
unsafe fn guarded(call: *const Call, body: impl FnOnce(&Call) -> Result<(), String>) -> i32 {
    // SAFETY: the caller's promise.
    let call = unsafe { &*call };
    let why = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(call))) {
        Ok(Ok(())) => return 0,
        Ok(Err(why)) => why,
        Err(payload) => format!(
            "the function panicked: {}",
            panic_text(&*payload).unwrap_or_else(|| "a panic with a non-string payload".into())
        ),
    };
    let n = why.len().min(call.message_cap);
    // SAFETY: `message` has `message_cap` bytes; `message_len` is one usize.
    unsafe {
        std::ptr::copy_nonoverlapping(why.as_ptr(), call.message, n);
        *call.message_len = n;
    }
    1
}

/// The closure: from the call's `env`, or, when it captures nothing, from its type alone.
///
/// # Safety
/// `env` is null or points at an `F`.
unsafe fn closure<F>(call: &Call) -> Result<&F, String> {
    if size_of::<F>() == 0 {
        // SAFETY: a closure that captures nothing has no bytes and nothing to uphold.
        Ok(unsafe { &*NonNull::<F>::dangling().as_ptr() })
    } else if call.env.is_null() {
        Err("its closure captures values, which only the kernel that made it has".into())
    } else {
        // SAFETY: the caller's promise.
        Ok(unsafe { &*(call.env as *const F) })
    }
}

/// The parameters, read from their JSON.
fn params<P: DeserializeOwned>(call: &Call) -> Result<P, String> {
    // SAFETY: `params` has `params_len` bytes (a `Call`'s promise).
    let text = unsafe { std::slice::from_raw_parts(call.params, call.params_len) };
    serde_json::from_slice(text).map_err(|e| format!("its parameters do not read back ({e})"))
}

/// The call's block shape, origin and element count.
fn block(call: &Call) -> (&[usize], &[u64], usize) {
    // SAFETY: `block` and `origin` have `ndim` elements (a `Call`'s promise).
    let (shape, origin) = unsafe {
        (std::slice::from_raw_parts(call.block, call.ndim), std::slice::from_raw_parts(call.origin, call.ndim))
    };
    (shape, origin, shape.iter().product())
}

/// The entry of `map_with(params, f)` for `P` and `F`.
unsafe extern "C" fn map_entry<P: DeserializeOwned, F: Fn(&P, f64) -> f64>(call: *const Call) -> i32 {
    // SAFETY: entries are called by `UserFn::call` only.
    unsafe {
        guarded(call, |c| {
            let (f, p) = (closure::<F>(c)?, params::<P>(c)?);
            let (_, _, n) = block(c);
            for v in std::slice::from_raw_parts_mut(c.output, n) {
                *v = f(&p, *v);
            }
            Ok(())
        })
    }
}

/// The entry of `map_blocks_with(params, f)` for `P` and `F`.
unsafe extern "C" fn map_blocks_entry<P, F>(call: *const Call) -> i32
where
    P: DeserializeOwned,
    F: Fn(&P, ArrayViewD<'_, f64>, &[Range<u64>]) -> ArrayD<f64>,
{
    // SAFETY: entries are called by `UserFn::call` only.
    unsafe {
        guarded(call, |c| {
            let (f, p) = (closure::<F>(c)?, params::<P>(c)?);
            let (shape, origin, n) = block(c);
            let input = ArrayViewD::from_shape(IxDyn(shape), std::slice::from_raw_parts(c.input, n))
                .map_err(|e| format!("a block does not fit its shape ({e})"))?;
            let region: Vec<Range<u64>> = origin.iter().zip(shape).map(|(&o, &s)| o..o + s as u64).collect();
            let y = f(&p, input, &region);
            if y.shape() != shape {
                return Err(format!(
                    "the function returned a block of shape {:?} for one of shape {shape:?} (at {region:?}); return the shape it was given",
                    y.shape()
                ));
            }
            for (o, v) in std::slice::from_raw_parts_mut(c.output, n).iter_mut().zip(y.iter()) {
                *o = *v;
            }
            Ok(())
        })
    }
}

/// The entry of `from_fn_with(params, f)` for `P` and `F`: `f(index)` in C order.
unsafe extern "C" fn from_fn_entry<P: DeserializeOwned, F: Fn(&P, &[u64]) -> f64>(call: *const Call) -> i32 {
    // SAFETY: entries are called by `UserFn::call` only.
    unsafe {
        guarded(call, |c| {
            let (f, p) = (closure::<F>(c)?, params::<P>(c)?);
            let (shape, origin, n) = block(c);
            let mut index = origin.to_vec();
            for v in std::slice::from_raw_parts_mut(c.output, n) {
                *v = f(&p, &index);
                for d in (0..index.len()).rev() {
                    index[d] += 1;
                    if index[d] < origin[d] + shape[d] as u64 {
                        break;
                    }
                    index[d] = origin[d];
                }
            }
            Ok(())
        })
    }
}

/// The parameters as JSON, or why they cannot be: they must read back (JSON has no NaN).
pub(crate) fn params_json<P: serde::Serialize + DeserializeOwned>(form: Form, params: &P) -> Result<String> {
    let why = match serde_json::to_string(params) {
        Ok(json) => match serde_json::from_str::<P>(&json) {
            Ok(_) => return Ok(json),
            Err(e) => format!("do not read back from their JSON {json} ({e}); NaN and infinities become null"),
        },
        Err(e) => format!("cannot be written as JSON ({e})"),
    };
    Err(Error::invalid(format!(
        "{}_with: the parameters {why}; use numbers, strings, tuples, Vecs or maps",
        form.name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_fn<F: Fn(&f64, f64) -> f64 + Send + Sync + 'static>(scale: f64, f: F) -> UserFn {
        UserFn::for_map(f, params_json(Form::Map, &scale).unwrap())
    }

    #[test]
    fn entries_run_the_closure_with_its_parameters() {
        let f = map_fn(3.0, |s, v| v * s + 1.0);
        assert_eq!(f.captures, 0);
        let mut b = ndarray::array![[1.0, 2.0], [3.0, 4.0]].into_dyn();
        f.map(&mut b).unwrap();
        assert_eq!(b, ndarray::array![[4.0, 7.0], [10.0, 13.0]].into_dyn());

        let offset = 10.0;
        let g = move |_: &(), i: &[u64]| (i[0] * 100 + i[1]) as f64 + offset;
        let g = UserFn::for_from_fn(g, "null".into());
        assert_eq!(g.captures, 8, "a capturing closure runs here, from its environment");
        let v = g.generate(&[2..4, 5..8]).unwrap();
        assert_eq!(v, ndarray::array![[215.0, 216.0, 217.0], [315.0, 316.0, 317.0]].into_dyn());
    }

    #[test]
    fn a_wrong_shape_and_a_panic_are_one_line_each() {
        let same = |_: &(), b: ArrayViewD<'_, f64>, r: &[Range<u64>]| b.map(|v| v + r[0].start as f64);
        let f = UserFn::for_map_blocks(same, "null".into());
        let b = ndarray::array![1.0, 2.0].into_dyn();
        #[allow(clippy::single_range_in_vec_init)] // a region of one dimension
        let at = [4..6];
        assert_eq!(f.map_blocks(&b, &at).unwrap(), ndarray::array![5.0, 6.0].into_dyn());

        let short = |_: &(), _: ArrayViewD<'_, f64>, _: &[Range<u64>]| ArrayD::zeros(IxDyn(&[1]));
        let f = UserFn::for_map_blocks(short, "null".into());
        let e = f.map_blocks(&b, &at).unwrap_err().to_string();
        assert!(e.contains("map_blocks: the function returned a block of shape [1] for one of shape [2]"), "{e}");

        let f = map_fn(0.0, |_, v| if v > 1.0 { panic!("too big: {v}") } else { v });
        let e = f.map(&mut b.clone()).unwrap_err().to_string();
        assert!(e.contains("map: the function panicked: too big: 2") && !e.contains('\n'), "{e}");
    }
}
