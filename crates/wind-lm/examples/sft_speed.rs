//! Throughput of SFT steps of candidate tiny models (bytes vs GPT-2 vocab sizes).
use burn::tensor::Device;
use wind_lm::LmConfig;
use wind_lm::sft::{SftConfig, train_sft};

fn main() {
    let dev = Device::flex().autodiff();
    let text =
        std::fs::read_to_string(std::env::args().nth(1).unwrap_or("README.md".into())).unwrap();
    for (vocab, d, layers, batch, seq) in [
        (257usize, 128usize, 4usize, 16usize, 128usize),
        (257, 96, 3, 16, 128),
        (257, 128, 4, 32, 64),
        (50257, 128, 4, 16, 32),
    ] {
        let toks: Vec<u32> = text.bytes().map(|b| b as u32 % vocab as u32).collect();
        let cfg = LmConfig {
            vocab,
            d_model: d,
            n_layers: layers,
            n_heads: 4,
            n_kv_heads: 2,
            d_ff: d * 3,
            rope_base: 10000.0,
            norm_eps: 1e-5,
            tied: true,
            max_seq: 256,
        };
        let m = wind_lm::Transformer::init(cfg.clone(), 0, &dev).unwrap();
        let sc = SftConfig {
            steps: 6,
            batch,
            seq,
            lr: 3e-3,
            warmup: 0,
            val_frac: 0.02,
            eval_every: 1000,
            seed: 0,
        };
        let t = std::time::Instant::now();
        let (_, rows) = train_sft(m, &toks, &sc, &mut |_| {}).unwrap();
        let s = t.elapsed().as_secs_f64() / 6.0;
        println!(
            "vocab {vocab} d {d} L {layers} params {} batch {batch} seq {seq}: {:.3} s/step, {:.0} tok/s, loss {:.3}->{:.3}",
            cfg.n_params(),
            s,
            (batch * seq) as f64 / s,
            rows[0].train_loss,
            rows[5].train_loss
        );
    }
}
