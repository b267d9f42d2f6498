//! A reduction's partial result for one block, and its bytes: what a cluster task writes to
//! scratch and the kernel merges. Only the statistics the reduction needs are written, and a
//! block of values that are all f32 goes as f32, so parts are as small as they can be without
//! changing a bit of the result: a statistic that is the same for every element (the count
//! of a mean over whole chunks, say) is written once.

use super::acc::{Acc, EMPTY};
use super::plan::{Op, Reduction};
use ndarray::{ArrayD, IxDyn};

/// What a block task hands back: its partial statistics, or the block itself to be merged
/// value by value (when the partial would be the larger).
#[derive(Debug)]
pub(crate) enum Part {
    Accs(Vec<Acc>),
    Block(ArrayD<f64>),
}

/// The header every part's bytes start with (a format version: a stale runner's parts are refused).
const MAGIC: &[u8; 4] = b"ZKP3";

const ACCS: u8 = 0;
const BLOCK_F64: u8 = 1;
const BLOCK_F32: u8 = 2;

/// The statistics `op` reads, as indices into [`fields`]' order.
fn needed(op: Reduction) -> &'static [usize] {
    match op.op {
        Op::Count => &[0, 1],
        Op::Sum | Op::Mean => &[0, 1, 2],
        Op::Min => &[0, 1, 5],
        Op::Max => &[0, 1, 6],
        Op::Var | Op::Std => &[0, 1, 2, 3, 4],
    }
}

fn fields(a: &Acc) -> [f64; 7] {
    [a.n, a.nans, a.sum, a.mean, a.m2, a.min, a.max]
}

impl Part {
    /// The part as bytes (little endian): header, tag, then the fields `op` needs per element,
    /// or the block's shape and values.
    pub(crate) fn to_bytes(&self, op: Reduction) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let word = |out: &mut Vec<u8>, v: u64| out.extend_from_slice(&v.to_le_bytes());
        match self {
            Part::Accs(accs) => {
                let keep = needed(op);
                let first = accs.first().map_or([0.0; 7], fields);
                let same = |i: usize| accs.iter().all(|a| fields(a)[i].to_bits() == first[i].to_bits());
                let (once, each): (Vec<usize>, Vec<usize>) = keep.iter().partition(|&&i| same(i));
                out.push(ACCS);
                word(&mut out, accs.len() as u64);
                word(&mut out, keep.iter().fold(0, |m, &i| m | 1 << i));
                word(&mut out, once.iter().fold(0, |m, &i| m | 1 << i));
                once.iter().for_each(|&i| out.extend_from_slice(&first[i].to_le_bytes()));
                for a in accs {
                    let f = fields(a);
                    each.iter().for_each(|&i| out.extend_from_slice(&f[i].to_le_bytes()));
                }
            }
            Part::Block(b) => {
                let exact_f32 = b.iter().all(|&v| v.is_nan() || f64::from(v as f32) == v);
                out.push(if exact_f32 { BLOCK_F32 } else { BLOCK_F64 });
                word(&mut out, b.ndim() as u64);
                b.shape().iter().for_each(|&d| word(&mut out, d as u64));
                for &v in b.as_standard_layout().iter() {
                    if exact_f32 {
                        out.extend_from_slice(&(v as f32).to_le_bytes());
                    } else {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        out
    }

    /// The part [`Part::to_bytes`] wrote, or why these bytes are not one.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Part, String> {
        let body = bytes.strip_prefix(MAGIC).ok_or("it does not start with the part header ZKP3")?;
        let short = || format!("it ends early ({} bytes)", bytes.len());
        let (&tag, mut rest) = body.split_first().ok_or_else(short)?;
        let mut word = || -> Result<u64, String> {
            let (w, r) = rest.split_first_chunk::<8>().ok_or_else(short)?;
            rest = r;
            Ok(u64::from_le_bytes(*w))
        };
        match tag {
            ACCS => {
                let (n, mask, once_mask) = (word()? as usize, word()?, word()?);
                let once: Vec<usize> = (0..7).filter(|i| once_mask & mask & 1 << i != 0).collect();
                let each: Vec<usize> = (0..7).filter(|i| mask & !once_mask & 1 << i != 0).collect();
                if rest.len() != (once.len() + n * each.len()) * 8 {
                    return Err(short());
                }
                let vals = f64s(rest);
                let mut base = fields(&EMPTY);
                once.iter().zip(&vals).for_each(|(&i, &v)| base[i] = v);
                let acc = |c: &[f64]| {
                    let mut f = base;
                    each.iter().zip(c).for_each(|(&i, &v)| f[i] = v);
                    Acc { n: f[0], nans: f[1], sum: f[2], mean: f[3], m2: f[4], min: f[5], max: f[6] }
                };
                let per = &vals[once.len()..];
                Ok(Part::Accs(if each.is_empty() {
                    vec![acc(&[]); n]
                } else {
                    per.chunks_exact(each.len()).map(acc).collect()
                }))
            }
            BLOCK_F64 | BLOCK_F32 => {
                let ndim = word()? as usize;
                let dims: Vec<usize> = (0..ndim).map(|_| word().map(|d| d as usize)).collect::<Result<_, _>>()?;
                let values: Vec<f64> = if tag == BLOCK_F32 {
                    rest.chunks_exact(4)
                        .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                        .collect()
                } else {
                    f64s(rest)
                };
                ArrayD::from_shape_vec(IxDyn(&dims), values).map(Part::Block).map_err(|_| short())
            }
            other => Err(format!("unknown part kind {other}")),
        }
    }
}

fn f64s(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(p: &Part) -> Vec<u64> {
        match p {
            Part::Accs(a) => a.iter().flat_map(fields).map(f64::to_bits).collect(),
            Part::Block(b) => b.iter().map(|v| v.to_bits()).collect(),
        }
    }

    #[test]
    fn parts_round_trip_with_only_the_fields_a_reduction_reads() {
        let accs: Vec<Acc> = (0..5)
            .map(|i| Acc { n: i as f64, nans: 1.0, sum: 0.1 * i as f64, mean: 0.3, m2: 2.5, min: -1.0, max: 9.0 })
            .collect();
        for op in Op::ALL {
            let r = Reduction { op, nan: false };
            let back = Part::from_bytes(&Part::Accs(accs.clone()).to_bytes(r)).unwrap();
            let Part::Accs(back) = back else { panic!("not accs") };
            for (a, b) in accs.iter().zip(&back) {
                for &i in needed(r) {
                    assert_eq!(fields(a)[i].to_bits(), fields(b)[i].to_bits(), "{op:?} field {i}");
                }
            }
        }
        // nans is 1 everywhere: written once; n and sum per element.
        let mean = Part::Accs(accs).to_bytes(Reduction { op: Op::Mean, nan: false });
        assert_eq!(mean.len(), 4 + 1 + 24 + 8 + 5 * 2 * 8);
        let same = vec![EMPTY; 3];
        let Part::Accs(back) =
            Part::from_bytes(&Part::Accs(same).to_bytes(Reduction { op: Op::Var, nan: true })).unwrap()
        else {
            panic!("not accs")
        };
        assert_eq!(back.len(), 3);
    }

    #[test]
    fn blocks_of_f32_values_go_as_f32_and_others_as_f64() {
        let r = Reduction { op: Op::Mean, nan: true };
        let f32s =
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.5, f64::NAN, -2.0, 1e30f32 as f64, 0.1f32 as f64, 7.0])
                .unwrap();
        let bytes = Part::Block(f32s.clone()).to_bytes(r);
        assert_eq!(bytes.len(), 4 + 1 + 8 * 3 + 6 * 4);
        let back = Part::from_bytes(&bytes).unwrap();
        assert_eq!(bits(&back)[..1], bits(&Part::Block(f32s.clone()))[..1]);
        assert!(matches!(&back, Part::Block(b) if b[[0, 1]].is_nan() && b[[1, 1]] == 0.1f32 as f64));
        let f64s = f32s.mapv(|v| v + 0.1);
        let back = Part::from_bytes(&Part::Block(f64s.clone()).to_bytes(r)).unwrap();
        assert_eq!(bits(&back), bits(&Part::Block(f64s)));
        assert!(Part::from_bytes(b"ZKP2....").unwrap_err().contains("part header ZKP3"));
        assert!(Part::from_bytes(&bytes[..20]).unwrap_err().contains("ends early"));
    }
}
