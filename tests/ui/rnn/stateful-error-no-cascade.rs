// After an error the stateful API still exists, so only the real error shows.
use static_keras::keras_model;

keras_model! {
    struct Stream {
        input_shape: (4, 3),
        layers: [GRU(8, stateful = True), LSTM(4, stateful = True)],
    }
}

fn main() {
    let net = Stream::zeroed();
    let mut state = StreamState::default();
    let x = Stream::input_from_slice(&[0.0; 12]).unwrap();
    let _ = net.predict_stateful(&mut state, &x);
    state.reset();
}
