use static_keras::keras_model;

keras_model! {
    pub struct Block {
        img = Input(shape = (8, 8, 4));
        a = Conv2D(16, 3, padding = "same")(img);
        b = Conv2D(32, 3, padding = "same")(img);
        y = Add()([a, b]);
        model = Model(inputs = img, outputs = y);
    }
}

fn main() {}
