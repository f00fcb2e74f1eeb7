// Hand-composed runtime layers: a Dense expecting 7 features after one producing 8.
use static_keras::layers::Dense;
use static_keras::{Activation, Layer, Tensor};

fn main() {
    let first: Dense<4, 8> = Dense::new(Activation::Relu);
    let second: Dense<7, 2> = Dense::new(Activation::Softmax);
    let x = Tensor::<4, 1>::zeros();
    let _y = (first, second).forward(&x);
}
