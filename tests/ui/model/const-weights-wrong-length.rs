// A model built in a `static` from the wrong number of weight bytes fails to compile.
use static_keras::keras_model;

keras_model! {
    pub struct Net {
        input_shape: (4,),
        layers: [Dense(2)],
    }
}

static NET: Net = Net::from_le_bytes_const(&[0u8; 36]);

fn main() {
    let _ = &NET;
}
