//! Text side of `wind`'s language-model track (no burn dependency).

pub mod gguf;
pub mod tokenizer;
pub mod judge;
pub mod vader;
pub mod data;
