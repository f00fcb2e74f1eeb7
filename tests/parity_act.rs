//! Keras parity of the activation layers (ReLU with every argument, LeakyReLU, PReLU shared
//! along every combination of axes, ELU, Softmax along any axis or tuple of axes), RepeatVector
//! and Permute, Masking in front of SimpleRNN/LSTM/GRU on padded batches, the layers that are
//! the identity at inference, and the Keras aliases of the seed layers (Convolution2D, MaxPool2D,
//! AvgPool1D, …).
#[macro_use]
mod parity;

include!("generated/act.rs");
