//! The SIMD matrix products, written once over [`Vector`] and compiled per instruction set.
//!
//! Column-major throughout. A register tile of `MV` vectors of rows × `NR` columns of `C` stays
//! in registers for the whole pass over `k`: per `k`, `MV` loads from a column of `A`, `NR`
//! broadcasts from `B` and `MV·NR` fused multiply-adds. It is the one tile of every SIMD product
//! ([`super::tile`]: the convolution runs the same one over its own operands). `C`'s last rows,
//! when `m` is not a multiple of the lane count, go through masked loads and stores, so every
//! row takes the same path. A single column (a matrix-vector product) has kernels of its own,
//! with several partial sums over `k` instead of several columns.
//!
//! Fused multiply-adds round once where the portable kernels round twice, so results differ from
//! theirs in the last bits (well inside Keras's 1e-5); the portable path is the one that gives
//! the same bits on every target.
//!
//! Where a block of columns of `B` is read by several tiles of rows (`m` over two tiles, `k` up
//! to what [`PANEL`] holds) and the instruction set gains from it ([`Vector::PACK_B`]: NEON),
//! it is first copied into a contiguous panel on the stack, in groups
//! of `LANES` consecutive `k` per column (`panel[(p / LANES · NR + jj) · LANES + p mod LANES] =
//! B[p, j + jj]`): one pointer and constant offsets reach every value a step of the tile needs,
//! where the strided columns took an address each. The tiles add the same products in the same
//! order either way, so packing changes no bit.
//!
//! Pointers: the entries check the slices' lengths against the sizes once; inside, every
//! pointer is formed from the slice's start plus an integer offset that the sizes bound (never
//! stepped past the end of its slice), and only for the values it reads or writes.

use super::tile::{self, Reads, Store, COLUMNS, GROUPS};
use super::vector::{Kernel, Vector};
use crate::Aligned;
use core::mem::MaybeUninit;

/// Values of the stack panel that a block of columns of `B` is packed into (48 KiB): with
/// AVX-512's 12 columns a block packs for `k ≤ 1024` (M1's Dense layers have 784).
const PANEL: usize = 12 * 1024;

/// `c (m×n, ldc) = a (m×k, lda) · b (k×n, ldb) + (c if accumulate)`.
pub(crate) struct Gemm<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub a: &'a [f32],
    pub lda: usize,
    pub b: &'a [f32],
    pub ldb: usize,
    pub c: &'a mut [f32],
    pub ldc: usize,
    pub accumulate: bool,
}

impl Gemm<'_> {
    /// Whether the slices hold the matrices the sizes and strides say (the last column of each
    /// needs only its rows).
    pub(crate) fn fits(&self) -> bool {
        let holds = |len: usize, rows: usize, ld: usize, cols: usize| {
            ld >= rows && (cols == 0 || rows == 0 || len >= (cols - 1) * ld + rows)
        };
        holds(self.a.len(), self.m, self.lda, self.k)
            && holds(self.b.len(), self.k, self.ldb, self.n)
            && holds(self.c.len(), self.m, self.ldc, self.n)
    }
}

impl Kernel for Gemm<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        self.product::<V>(t, V::PACK_B);
    }
}

/// [`Gemm`] that packs `B` wherever the panel holds it (`true`), or never, whatever the
/// instruction set's choice ([`Vector::PACK_B`]): the tests compare the two paths bit for bit
/// on every instruction set.
#[cfg(test)]
pub(crate) struct Packing<'a>(pub Gemm<'a>, pub bool);

#[cfg(test)]
impl Kernel for Packing<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        self.0.product::<V>(t, self.1);
    }
}

impl Gemm<'_> {
    /// The product; `may_pack`: whether blocks of `B` are packed into the panel where it pays.
    #[inline(always)]
    fn product<V: Vector>(self, t: V::Token, may_pack: bool) {
        assert!(
            self.fits(),
            "gemm: the slices are shorter than the sizes say"
        );
        let (m, n) = (self.m, self.n);
        if m == 0 || n == 0 {
            return;
        }
        let g = Raw {
            k: self.k,
            a: self.a.as_ptr(),
            lda: self.lda,
            b: self.b.as_ptr(),
            ldb: self.ldb,
            c: self.c.as_mut_ptr(),
            ldc: self.ldc,
            accumulate: self.accumulate,
        };
        // SAFETY: for every call below, `fits` (asserted above) proves that rows `0..m` of columns
        // `0..k` of `a`, rows `0..k` of columns `0..n` of `b` and rows `0..m` of columns `0..n`
        // of `c` are inside their slices; each call covers rows and columns inside those ranges,
        // and `c` is borrowed mutably for the whole product.
        unsafe {
            if self.k == 0 {
                // No products: the tiles' operands would hold no values to point into.
                return g.empty(m, n);
            }
            if n == 1 {
                return g.column::<V>(t, m, 0);
            }
            let l = V::LANES;
            // Packing pays where at least two tiles of rows read each block of `B`, and the
            // panel holds the block's groups of `k` (the last one whole, even if part-filled).
            if may_pack && m > 2 * l && self.k.div_ceil(l) * l * V::NR <= PANEL {
                let mut panel = Aligned([MaybeUninit::<f32>::uninit(); PANEL]);
                // One pointer for the writes and the reads of the panel.
                let to = panel.0.as_mut_ptr().cast::<f32>();
                let packed = Panel {
                    to,
                    reader: Raw {
                        b: to.cast_const(),
                        ..g
                    },
                };
                let mut j = 0;
                while j < n {
                    let cols = V::NR.min(n - j);
                    g.block::<V>(t, m, j, cols, Some(&packed));
                    j += cols;
                }
                return;
            }
            let mut j = 0;
            while j < n {
                let cols = V::NR.min(n - j);
                g.block::<V>(t, m, j, cols, None);
                j += cols;
            }
        }
    }
}

/// The stack panel a block of `B` is packed into: where [`Raw::pack`] writes, and the operands
/// that read `B` from it.
struct Panel {
    to: *mut f32,
    reader: Raw,
}

/// The product's operands as pointers, for the tiles: `Gemm` after its lengths were checked.
#[derive(Clone, Copy)]
struct Raw {
    k: usize,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
}

impl Raw {
    /// Columns `j..j + cols` (`cols ≤ NR`), through the panel if one is given.
    ///
    /// # Safety
    /// As [`Raw::columns`]; a panel holds [`PANEL`] values, `NR · LANES · ⌈k / LANES⌉ ≤ PANEL`,
    /// and its reader reads `B` from it.
    #[inline(always)]
    unsafe fn block<V: Vector>(
        &self,
        t: V::Token,
        m: usize,
        j: usize,
        cols: usize,
        panel: Option<&Panel>,
    ) {
        // SAFETY: the caller's promises, for columns `j..j + cols`.
        unsafe {
            match cols {
                1 => self.column::<V>(t, m, j),
                2 => self.through::<V, 2>(t, m, j, panel),
                3 => self.through::<V, 3>(t, m, j, panel),
                4 => self.through::<V, 4>(t, m, j, panel),
                5 => self.through::<V, 5>(t, m, j, panel),
                6 => self.through::<V, 6>(t, m, j, panel),
                7 => self.through::<V, 7>(t, m, j, panel),
                8 => self.through::<V, 8>(t, m, j, panel),
                9 => self.through::<V, 9>(t, m, j, panel),
                10 => self.through::<V, 10>(t, m, j, panel),
                11 => self.through::<V, 11>(t, m, j, panel),
                _ => self.through::<V, 12>(t, m, j, panel),
            }
        }
    }

    /// Columns `j..j + NR`: packed into the panel and read from there, if one is given.
    ///
    /// # Safety
    /// As [`Raw::block`].
    #[inline(always)]
    unsafe fn through<V: Vector, const NR: usize>(
        &self,
        t: V::Token,
        m: usize,
        j: usize,
        panel: Option<&Panel>,
    ) {
        // SAFETY: the caller's promises; the panel's groups are written by `pack` before
        // `columns` reads them.
        unsafe {
            match panel {
                Some(panel) => {
                    self.pack::<V, NR>(t, j, panel.to);
                    panel.reader.columns::<V, NR, true>(t, m, j);
                }
                None => self.columns::<V, NR, false>(t, m, j),
            }
        }
    }

    /// Copies rows `0..k` of columns `j..j + NR` of `B` to `to` in groups of `LANES` rows per
    /// column (the module's layout): a vector copy per group, the last group masked.
    ///
    /// # Safety
    /// Rows `0..k` of columns `j..j + NR` of `B` are inside it, and `to` holds
    /// `NR · LANES · ⌈k / LANES⌉` values.
    #[inline(always)]
    unsafe fn pack<V: Vector, const NR: usize>(&self, t: V::Token, j: usize, to: *mut f32) {
        let l = V::LANES;
        let groups = self.k / l;
        for q in 0..groups {
            for jj in 0..NR {
                // SAFETY: rows `q·l..(q + 1)·l ≤ k` of column `j + jj` of `B`; group `q` of
                // column `jj` of the panel, `(q·NR + jj + 1)·l ≤ NR·l·⌈k / l⌉` values in.
                unsafe {
                    let v = V::load(t, self.b.add((j + jj) * self.ldb + q * l));
                    V::store(to.add((q * NR + jj) * l), v);
                }
            }
        }
        let rest = self.k - groups * l;
        if rest > 0 {
            let mk = V::mask(t, rest);
            for jj in 0..NR {
                // SAFETY: rows `groups·l..k` of column `j + jj` of `B` (the mask's `rest`
                // lanes); the panel's last group of column `jj`, inside it as above.
                unsafe {
                    let v = V::load_masked(t, self.b.add((j + jj) * self.ldb + groups * l), mk);
                    V::store_masked(to.add((groups * NR + jj) * l), mk, v);
                }
            }
        }
    }

    /// `C` of a product over `k = 0`: zeros, or `C + 0` when accumulating (the sums a tile
    /// would store).
    ///
    /// # Safety
    /// Rows `0..m` of columns `0..n` of `C` are inside it.
    unsafe fn empty(&self, m: usize, n: usize) {
        for j in 0..n {
            for i in 0..m {
                // SAFETY: row `i < m` of column `j < n` (the caller's promise).
                unsafe {
                    let c = self.c.add(j * self.ldc + i);
                    *c = if self.accumulate { *c + 0.0 } else { 0.0 };
                }
            }
        }
    }

    /// Columns `j..j + NR` of `C`, in register tiles ([`tile`]) of two vectors of rows (then
    /// one, the last masked when `m` is not a whole number of vectors). `PACKED`: `B` is the
    /// panel of these columns (the module's layout), not `B`.
    ///
    /// # Safety
    /// `k > 0`, and rows `0..m` of columns `j..j + NR` of `C` (and what they read of `A` and
    /// `B`, or of the panel) are inside the operands.
    #[inline(always)]
    unsafe fn columns<V: Vector, const NR: usize, const PACKED: bool>(
        &self,
        t: V::Token,
        m: usize,
        j: usize,
    ) {
        let l = V::LANES;
        let mut i = 0;
        while i < m {
            let rows = (2 * l).min(m - i);
            // SAFETY: rows `i..i + rows` of the columns, inside `0..m` (the caller's promise):
            // column `p < k` of `A` holds them from `i + p·lda` (column 0 exists: `k > 0`), and
            // `C`'s column `j + jj` from `(j + jj)·ldc + i`; rows `0..k` of column `j + jj` of
            // `B` are at `(j + jj)·ldb ..`, or in the panel's groups of column `jj` (`GROUPS`).
            // `C` is borrowed mutably by the product, apart from `A` and `B`.
            unsafe {
                let out = Store {
                    y: self.c.add(j * self.ldc + i),
                    n: NR,
                    f: self.ldc,
                    first: !self.accumulate,
                    fin: None,
                };
                let a = self.a.add(i);
                if PACKED {
                    let b = Reads::groups(self.b, self.k);
                    tile::rows::<V, NR, GROUPS>(t, a, rows, Some(self.lda), b, out);
                } else {
                    let b = Reads::columns(self.b.add(j * self.ldb), self.k, self.ldb);
                    tile::rows::<V, NR, COLUMNS>(t, a, rows, Some(self.lda), b, out);
                }
            }
            i += rows;
        }
    }

    /// Writes (or adds, when accumulating) one vector of `C` at offset `at`; masked if it is
    /// the tail.
    ///
    /// # Safety
    /// `C` holds the vector's lanes (the mask's lanes for a masked tail) from `at`.
    #[inline(always)]
    unsafe fn store<V: Vector, const TAIL: bool>(
        &self,
        t: V::Token,
        at: usize,
        last: bool,
        mk: V::Mask,
        sum: V,
    ) {
        // SAFETY: the caller's promise: `at` and the lanes written from it are inside `C`.
        unsafe {
            let p = self.c.add(at);
            if TAIL && last {
                let sum = if self.accumulate {
                    V::add(V::load_masked(t, p, mk), sum)
                } else {
                    sum
                };
                V::store_masked(p, mk, sum);
            } else {
                let sum = if self.accumulate {
                    V::add(V::load(t, p), sum)
                } else {
                    sum
                };
                V::store(p, sum);
            }
        }
    }

    /// Column `j` of `C` (a matrix-vector product): 8 vectors of rows per pass, and for short
    /// columns several partial sums over `k`, so at least 8 independent sums are in flight
    /// either way.
    ///
    /// # Safety
    /// Rows `0..m` of column `j` of `C` (and what they read) are inside the operands.
    #[inline(always)]
    unsafe fn column<V: Vector>(&self, t: V::Token, m: usize, j: usize) {
        let l = V::LANES;
        let mut i = 0;
        // SAFETY: each tile covers rows inside `0..m`: `8·l` while they remain, then the
        // `rest < 8·l` rows in `vectors` vectors, the last holding `last ≥ 1` rows.
        unsafe {
            while i + 8 * l <= m {
                // 32 registers (AVX-512, NEON) hold two partial sums of 8 vectors.
                if V::REGISTERS >= 32 {
                    self.column_tile::<V, 8, 2, false>(t, i, j, l);
                } else {
                    self.column_tile::<V, 8, 1, false>(t, i, j, l);
                }
                i += 8 * l;
            }
            let rest = m - i;
            if rest == 0 {
                return;
            }
            let vectors = rest.div_ceil(l);
            let last = rest - l * (vectors - 1);
            match vectors {
                1 if last == l => self.column_tile::<V, 1, 8, false>(t, i, j, l),
                1 => self.column_tile::<V, 1, 8, true>(t, i, j, last),
                2 => self.column_tile::<V, 2, 4, true>(t, i, j, last),
                3 => self.column_tile::<V, 3, 2, true>(t, i, j, last),
                4 => self.column_tile::<V, 4, 2, true>(t, i, j, last),
                5 => self.column_tile::<V, 5, 1, true>(t, i, j, last),
                6 => self.column_tile::<V, 6, 1, true>(t, i, j, last),
                7 => self.column_tile::<V, 7, 1, true>(t, i, j, last),
                _ => self.column_tile::<V, 8, 1, true>(t, i, j, last),
            }
        }
    }

    /// Rows `i..i + (MV − 1)·LANES + last` of column `j`, with `U` partial sums over `k`
    /// (`p mod U`) added at the end. A full last vector through the masked path costs little:
    /// masks are all set.
    ///
    /// # Safety
    /// As [`Raw::columns`], for rows `i..` of column `j` only.
    #[inline(always)]
    unsafe fn column_tile<V: Vector, const MV: usize, const U: usize, const TAIL: bool>(
        &self,
        t: V::Token,
        i: usize,
        j: usize,
        last: usize,
    ) {
        let mk = V::mask(t, last);
        let l = V::LANES;
        let mut acc = [[V::zero(t); MV]; U];
        let b = j * self.ldb;
        // Vector `v` of the tile's rows of column `p` of `A`.
        let load = |p: usize, v: usize| {
            let at = i + p * self.lda + l * v;
            // SAFETY: `p < k`, and rows `i + l·v ..` of the tile (full, or the `last` of the
            // masked tail) are inside `A` (the caller's promise).
            unsafe {
                if TAIL && v + 1 == MV {
                    V::load_masked(t, self.a.add(at), mk)
                } else {
                    V::load(t, self.a.add(at))
                }
            }
        };
        let mut p = 0;
        while p + U <= self.k {
            for (u, acc) in acc.iter_mut().enumerate() {
                // SAFETY: row `p + u < k` of column `j` of `B`.
                let x = unsafe { V::broadcast(t, self.b.add(b + p + u)) };
                for (v, acc) in acc.iter_mut().enumerate() {
                    *acc = V::fmadd(load(p + u, v), x, *acc);
                }
            }
            p += U;
        }
        while p < self.k {
            // SAFETY: row `p < k` of column `j` of `B`.
            let x = unsafe { V::broadcast(t, self.b.add(b + p)) };
            for (v, acc) in acc[0].iter_mut().enumerate() {
                *acc = V::fmadd(load(p, v), x, *acc);
            }
            p += 1;
        }
        let c = j * self.ldc + i;
        for v in 0..MV {
            let mut sum = acc[0][v];
            for acc in &acc[1..] {
                sum = V::add(sum, acc[v]);
            }
            // SAFETY: rows `i + l·v ..` of column `j` of `C`, as loaded from `A`.
            unsafe { self.store::<V, TAIL>(t, c + l * v, v + 1 == MV, mk, sum) };
        }
    }
}

/// `y (m) += a (m×k, lda) · x (k)` for a recurrent step: every row of a block of up to 16
/// vectors (12 with AVX2's 16 registers) per column, so a kernel of up to 256 rows (64 with
/// NEON's 4 lanes) is read as one sequential stream; columns in the order `0..k`, or `k−1..0` with `reverse`. A recurrent
/// kernel a little larger than the L1 cache is then read alternately forwards and backwards by
/// consecutive steps, and the part read last by one step is still cached for the next.
pub(crate) struct Sweep<'a> {
    pub m: usize,
    pub k: usize,
    pub a: &'a [f32],
    pub lda: usize,
    pub x: &'a [f32],
    pub y: &'a mut [f32],
    pub reverse: bool,
}

impl Kernel for Sweep<'_> {
    type Output = ();

    #[inline(always)]
    fn run<V: Vector>(self, t: V::Token) {
        let (m, k, lda) = (self.m, self.k, self.lda);
        assert!(
            lda >= m
                && self.x.len() == k
                && self.y.len() == m
                && (k == 0 || self.a.len() >= (k - 1) * lda + m),
            "gemv_sweep: the slices are shorter than the sizes say"
        );
        let l = V::LANES;
        let most = if V::REGISTERS >= 32 { 16 } else { 12 };
        let (a, x, y) = (self.a.as_ptr(), self.x.as_ptr(), self.y.as_mut_ptr());
        let block = Block {
            k,
            a,
            lda,
            x,
            y,
            reverse: self.reverse,
        };
        // Blocks of up to `most` full vectors of rows, then the `m mod LANES` rows left as one
        // masked vector by themselves: a block's vectors are then all plain loads, so its loop
        // over them unrolls and its sums stay in registers (with NEON's masked loads, a branch
        // on the lane count, inside the block they kept every sum in memory: four times the
        // instructions). Each row's sum runs over the columns in the same order whichever
        // block holds it, so the blocking changes no bit.
        let full = m - m % l;
        let mut i = 0;
        // SAFETY: for every call, the block covers rows `i..i + vectors·l ≤ full ≤ m` (full
        // vectors), or the masked rows `full..m` (checked above for every column of `a` and for
        // `y`).
        unsafe {
            while i < full {
                let vectors = ((full - i) / l).min(most);
                match vectors {
                    1 => block.rows::<V, 1>(t, i),
                    2 => block.rows::<V, 2>(t, i),
                    3 => block.rows::<V, 3>(t, i),
                    4 => block.rows::<V, 4>(t, i),
                    5 => block.rows::<V, 5>(t, i),
                    6 => block.rows::<V, 6>(t, i),
                    7 => block.rows::<V, 7>(t, i),
                    8 => block.rows::<V, 8>(t, i),
                    9 => block.rows::<V, 9>(t, i),
                    10 => block.rows::<V, 10>(t, i),
                    11 => block.rows::<V, 11>(t, i),
                    12 => block.rows::<V, 12>(t, i),
                    13 => block.rows::<V, 13>(t, i),
                    14 => block.rows::<V, 14>(t, i),
                    15 => block.rows::<V, 15>(t, i),
                    _ => block.rows::<V, 16>(t, i),
                }
                i += vectors * l;
            }
            if full < m {
                block.tail::<V>(t, full, m - full);
            }
        }
    }
}

/// [`Sweep`]'s operands as pointers, after its lengths were checked.
struct Block {
    k: usize,
    a: *const f32,
    lda: usize,
    x: *const f32,
    y: *mut f32,
    reverse: bool,
}

impl Block {
    /// Rows `i..i + MV·LANES` (full vectors), summed in registers.
    ///
    /// # Safety
    /// Those rows of `y` and of every column `0..k` of `a` are inside the operands, and `x`
    /// holds `k` values.
    #[inline(always)]
    unsafe fn rows<V: Vector, const MV: usize>(&self, t: V::Token, i: usize) {
        let l = V::LANES;
        let mut acc = [V::zero(t); MV];
        for (v, acc) in acc.iter_mut().enumerate() {
            // SAFETY: rows `i + l·v ..` of `y`, a full vector inside the block.
            *acc = unsafe { V::load(t, self.y.add(i + l * v)) };
        }
        // Column by column, forwards or backwards: offsets computed per column, so no pointer
        // ever steps outside `a`.
        for q in 0..self.k {
            let p = if self.reverse { self.k - 1 - q } else { q };
            // SAFETY: `p < k` values of `x`.
            let xv = unsafe { V::broadcast(t, self.x.add(p)) };
            let at = p * self.lda + i;
            for (v, acc) in acc.iter_mut().enumerate() {
                // SAFETY: rows `i + l·v ..` of column `p` of `a`, a full vector of the block.
                *acc = V::fmadd(unsafe { V::load(t, self.a.add(at + l * v)) }, xv, *acc);
            }
        }
        for (v, &acc) in acc.iter().enumerate() {
            // SAFETY: rows `i + l·v ..` of `y`, as loaded.
            unsafe { V::store(self.y.add(i + l * v), acc) };
        }
    }

    /// Rows `i..i + rows` (`rows < LANES`), one masked vector.
    ///
    /// # Safety
    /// Those rows of `y` and of every column `0..k` of `a` are inside the operands, and `x`
    /// holds `k` values.
    #[inline(always)]
    unsafe fn tail<V: Vector>(&self, t: V::Token, i: usize, rows: usize) {
        let mk = V::mask(t, rows);
        // SAFETY: the mask covers rows `i..i + rows` of `y`, inside it.
        let mut acc = unsafe { V::load_masked(t, self.y.add(i), mk) };
        for q in 0..self.k {
            let p = if self.reverse { self.k - 1 - q } else { q };
            // SAFETY: `p < k` values of `x`; the mask covers rows `i..i + rows` of column `p`
            // of `a`, inside it.
            unsafe {
                let xv = V::broadcast(t, self.x.add(p));
                acc = V::fmadd(V::load_masked(t, self.a.add(p * self.lda + i), mk), xv, acc);
            }
        }
        // SAFETY: rows `i..i + rows` of `y`, as loaded.
        unsafe { V::store_masked(self.y.add(i), mk, acc) };
    }
}
