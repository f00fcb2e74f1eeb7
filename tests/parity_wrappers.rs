//! Keras parity of the wrappers: Bidirectional over SimpleRNN, LSTM and GRU (both `reset_after`)
//! with every merge mode, `return_sequences` both ways, `return_state`, a given `backward_layer`
//! (another cell, other units, the forward layer reading backwards), masks from Embedding and
//! Masking on padded batches; TimeDistributed over Dense, convolutions, pooling, Flatten,
//! BatchNormalization, recurrent layers (a 2-D Embedding's mask given slice by slice) and itself;
//! and Keras's other names of the transposed and separable convolutions and global poolings.
#[macro_use]
mod parity;

include!("generated/wrappers.rs");
