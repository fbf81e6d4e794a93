//! Language-model track of `wind`: a Llama-style transformer on burn, generation, sequence
//! log-probabilities, the small Shakespeare model, SmolLM2 from GGUF, and the sequence-level
//! WIND / SPPO learners of fig2.

pub mod fig2;
pub mod generate;
pub mod gguf_model;
pub mod lmjudge;
pub mod model;
pub mod seqlearn;
pub mod sft;

pub use generate::{GenConfig, Generation, generate};
pub use model::{LmConfig, Transformer};
