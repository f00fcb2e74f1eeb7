//! `Embedding`: token ids to vectors, and the checked token-id input it reads.

use crate::layer::{Layer, Variable, Weights};
use crate::memory::zeroable;
use crate::train::{Params, Train, TrainCtx};
use crate::{Error, Tensor};

/// `N` token ids, each known to be below `VOCAB`: the input of a model that starts with
/// [`Embedding`].
///
/// The range is checked once, when the ids enter ([`TokenIds::new`]), so the lookup cannot fail
/// (Keras on JAX would return a row of NaN for an id ≥ `input_dim`, and other backends raise).
///
/// ```
/// use static_keras_runtime::{Error, TokenIds};
/// let ids = TokenIds::<3, 10>::new(&[4, 0, 9]).unwrap();
/// assert_eq!(ids.mask(), [true, false, true]); // Keras `mask_zero=True`
/// assert_eq!(
///     TokenIds::<3, 10>::new(&[4, 10, 9]),
///     Err(Error::TokenOutOfRange { position: 1, id: 10, input_dim: 10 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenIds<const N: usize, const VOCAB: usize> {
    ids: [u32; N],
}

impl<const N: usize, const VOCAB: usize> TokenIds<N, VOCAB> {
    /// The ids in Keras's row-major order; fails on a wrong count or an id `>= VOCAB`.
    pub fn new(ids: &[u32]) -> Result<Self, Error> {
        if ids.len() != N {
            return Err(Error::InputLength {
                expected: N,
                actual: ids.len(),
            });
        }
        if let Some((position, &id)) = ids.iter().enumerate().find(|(_, &id)| id as usize >= VOCAB)
        {
            return Err(Error::TokenOutOfRange {
                position,
                id,
                input_dim: VOCAB,
            });
        }
        let mut out = [0; N];
        out.copy_from_slice(ids);
        Ok(Self { ids: out })
    }

    /// The ids given as floats (part of the flat `f32` input of a model with several inputs):
    /// each must be a whole number `>= 0` below `VOCAB`.
    pub fn from_f32(values: &[f32]) -> Result<Self, Error> {
        if values.len() != N {
            return Err(Error::InputLength {
                expected: N,
                actual: values.len(),
            });
        }
        let mut ids = [0u32; N];
        for (position, (id, &v)) in ids.iter_mut().zip(values).enumerate() {
            if !(v >= 0.0 && v <= u32::MAX as f32 && v == libm::truncf(v)) {
                return Err(Error::TokenNotWhole { position });
            }
            *id = v as u32;
        }
        Self::new(&ids)
    }

    /// The ids.
    pub fn ids(&self) -> &[u32; N] {
        &self.ids
    }

    /// Keras's `mask_zero=True` mask: `true` where the id is not the padding id 0.
    pub fn mask(&self) -> [bool; N] {
        self.ids.map(|id| id != 0)
    }
}

/// Keras `Embedding(input_dim, output_dim, mask_zero=False)`: row `id` of the embedding matrix for
/// every id.
///
/// `mask_zero` does not change the values (row 0 is looked up like any other); it only makes the
/// mask [`TokenIds::mask`] that recurrent layers downstream consume.
///
/// # Shapes
/// - input: [`TokenIds<N, VOCAB>`] (Keras `(T,)` ids, or any shape of `N` ids)
/// - output: `Tensor<DIM, N>` (Keras `(T, DIM)`, or the id shape followed by `DIM`)
/// - variables: `embeddings (VOCAB, DIM)`.
///
/// ```
/// use static_keras_runtime::{Embedding, Layer, TokenIds, Weights};
/// let mut emb: Embedding<3, 2> = Embedding::default();
/// emb.load_variable(0, &mut [0.0, 0.0, 1.0, 2.0, 3.0, 4.0].into_iter()); // (3, 2)
/// let y = emb.forward(&TokenIds::<2, 3>::new(&[2, 1]).unwrap());
/// assert_eq!(y.as_slice(), &[3.0, 4.0, 1.0, 2.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding<const VOCAB: usize, const DIM: usize> {
    /// The Keras `(VOCAB, DIM)` matrix read row-major: `embeddings[[id, d]]` is Keras's
    /// `embeddings[id, d]`, and position `id` holds the vector of token `id`.
    pub embeddings: Tensor<DIM, VOCAB>,
}

zeroable!([const VOCAB: usize, const DIM: usize] Embedding<VOCAB, DIM> => Embedding { embeddings });

impl<const VOCAB: usize, const DIM: usize> Embedding<VOCAB, DIM> {
    /// The layer from its Keras `embeddings (VOCAB, DIM)` as raw little-endian f32, at compile
    /// time: `static` models built this way keep the table in flash.
    pub const fn from_le_bytes_const(bytes: &[u8]) -> Self {
        assert!(
            bytes.len() == 4 * VOCAB * DIM,
            "Embedding: weight byte count does not match"
        );
        Self {
            embeddings: crate::tensor_from_le_bytes(bytes),
        }
    }

    const VARIABLES: &'static [Variable] = &[Variable {
        name: "embeddings",
        shape: &[VOCAB, DIM],
    }];
}

impl<const VOCAB: usize, const DIM: usize> Default for Embedding<VOCAB, DIM> {
    /// Every vector zero.
    fn default() -> Self {
        Self {
            embeddings: Tensor::zeros(),
        }
    }
}

impl<const VOCAB: usize, const DIM: usize, const N: usize> Layer<TokenIds<N, VOCAB>>
    for Embedding<VOCAB, DIM>
{
    type Output = Tensor<DIM, N>;

    fn forward(&self, ids: &TokenIds<N, VOCAB>) -> Tensor<DIM, N> {
        let mut y = Tensor::<DIM, N>::zeros();
        for (mut column, &id) in y.as_matrix_mut().column_iter_mut().zip(ids.ids()) {
            // In range by construction of `TokenIds`.
            column.copy_from(&self.embeddings.as_matrix().column(id as usize));
        }
        y
    }
}

impl<const VOCAB: usize, const DIM: usize> Weights for Embedding<VOCAB, DIM> {
    fn variables(&self) -> &'static [Variable] {
        Self::VARIABLES
    }

    fn load_variable(&mut self, _: usize, values: &mut dyn Iterator<Item = f32>) {
        let target = self.embeddings.as_mut_slice();
        target.iter_mut().zip(values).for_each(|(t, v)| *t = v);
    }

    fn store_variable(&self, _: usize, out: &mut dyn FnMut(f32)) {
        self.embeddings.iter().for_each(|&v| out(v));
    }
}

/// Keras's default initializers (see [`crate::train::init`]).
impl<const VOCAB: usize, const DIM: usize> crate::train::Init for Embedding<VOCAB, DIM> {}

/// Training: the lookup; backwards, the gradient of each looked-up row is the sum of the output
/// gradients of the positions that read it (a scatter-add into the dense table, as the gradient
/// of Keras's `take` on JAX is). Ids are not differentiable: there is no input gradient.
impl<const VOCAB: usize, const DIM: usize, const N: usize> Train<TokenIds<N, VOCAB>>
    for Embedding<VOCAB, DIM>
{
    type Cache = ();

    fn forward_train(
        &self,
        ids: &TokenIds<N, VOCAB>,
        y: &mut Tensor<DIM, N>,
        _cache: &mut (),
        _ctx: &mut TrainCtx,
    ) {
        for (row, &id) in y.as_mut_slice().chunks_exact_mut(DIM).zip(ids.ids()) {
            let id = id as usize;
            row.copy_from_slice(&self.embeddings.as_slice()[id * DIM..(id + 1) * DIM]);
        }
    }

    fn backward(
        &self,
        ids: &TokenIds<N, VOCAB>,
        _y: &Tensor<DIM, N>,
        _cache: &mut (),
        dy: &Tensor<DIM, N>,
        _dx: Option<&mut TokenIds<N, VOCAB>>,
        grads: Option<&mut Self>,
    ) {
        let Some(grads) = grads else { return };
        let table = grads.embeddings.as_mut_slice();
        for (d, &id) in dy.as_slice().chunks_exact(DIM).zip(ids.ids()) {
            let id = id as usize;
            for (g, d) in table[id * DIM..(id + 1) * DIM].iter_mut().zip(d) {
                *g += d;
            }
        }
    }
}

impl<const VOCAB: usize, const DIM: usize> Params for Embedding<VOCAB, DIM> {
    fn trainable_count(&self) -> usize {
        1
    }

    fn trainable_mut<'a>(&'a mut self, f: &mut dyn FnMut(&'a mut [f32])) {
        f(self.embeddings.as_mut_slice());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_count_and_the_range() {
        assert_eq!(
            TokenIds::<2, 5>::new(&[1, 2, 3]),
            Err(Error::InputLength {
                expected: 2,
                actual: 3
            })
        );
        assert!(TokenIds::<2, 5>::new(&[4, 0]).is_ok());
        let emb = Embedding::<5, 3>::default();
        assert_eq!(emb.param_count(), 15);
        let y: Tensor<3, 4> = emb.forward(&TokenIds::<4, 5>::new(&[0, 1, 2, 4]).unwrap());
        assert_eq!(y.len(), 12);
    }

    #[test]
    fn gradients_scatter_into_the_rows_read() {
        let mut emb = Embedding::<4, 2>::default();
        emb.load_variable(0, &mut (0..8).map(|v| v as f32));
        let ids = TokenIds::<3, 4>::new(&[2, 0, 2]).unwrap();
        let mut y = Tensor::<2, 3>::zeros();
        emb.forward_train(&ids, &mut y, &mut (), &mut TrainCtx::new(0));
        assert_eq!(y, emb.forward(&ids));
        let dy = Tensor::<2, 3>::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let mut grads = Embedding::<4, 2>::default();
        emb.backward(&ids, &y, &mut (), &dy, None, Some(&mut grads));
        // Row 2 is read twice: its gradient is the sum of both positions'.
        assert_eq!(
            grads.embeddings.as_slice(),
            &[3.0, 4.0, 0.0, 0.0, 6.0, 8.0, 0.0, 0.0]
        );
    }
}
