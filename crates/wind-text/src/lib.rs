//! Text side of `wind`'s language-model track (no burn dependency).

pub mod data;
pub mod gguf;
pub mod judge;
pub mod tokenizer;
pub mod vader;
