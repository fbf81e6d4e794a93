//! A language model as a pairwise judge: the judge model reads the question and two responses
//! in its chat template and is asked which is better; `P(a ≻ b)` is the softmax of its next-token
//! log-probabilities of "A" vs "B", averaged over both presentation orders (which removes the
//! position bias of small models). One call = one pairwise query (two forward passes).

use crate::model::{KvCache, RowState, Transformer};
use crate::seqlearn::Preference;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wind_text::tokenizer::{BpeTokenizer, Tokenizer};

/// The shared judge model (loaded once, used by several counting judges).
pub struct JudgeModel {
    model: Mutex<Transformer>,
    tok: BpeTokenizer,
    a: u32,
    b: u32,
    /// Longest judge prompt in tokens (responses are truncated to fit).
    max_tokens: usize,
}

impl JudgeModel {
    /// Wrap a chat model and its tokenizer; "A" and "B" must be single tokens.
    pub fn new(model: Transformer, tok: BpeTokenizer) -> Result<Arc<Self>, String> {
        let one = |s: &str| -> Result<u32, String> {
            match tok.encode(s).as_slice() {
                [id] => Ok(*id),
                other => Err(format!(
                    "LM judge: {s:?} is not one token in this vocabulary ({other:?})"
                )),
            }
        };
        let (a, b) = (one("A")?, one("B")?);
        let max_tokens = model.config.max_seq;
        Ok(Arc::new(JudgeModel {
            model: Mutex::new(model),
            tok,
            a,
            b,
            max_tokens,
        }))
    }

    fn clip(&self, s: &str, max: usize) -> String {
        let ids = self.tok.encode(s);
        if ids.len() <= max {
            s.to_string()
        } else {
            self.tok.decode(&ids[..max])
        }
    }

    /// `P(first ≻ second)` for one order: σ(log p(A) − log p(B)).
    fn order_prob(&self, question: &str, first: &str, second: &str) -> Result<f64, String> {
        let budget = self.max_tokens.saturating_sub(96) / 3;
        let msg = format!(
            "Question: {}\n\nResponse A: {}\n\nResponse B: {}\n\nWhich response is better? Answer with a single letter, A or B.",
            self.clip(question, budget),
            self.clip(first, budget),
            self.clip(second, budget)
        );
        let ids = self.tok.chatml(None, &msg).map_err(|e| e.to_string())?;
        let model = self
            .model
            .lock()
            .map_err(|_| "LM judge: model lock poisoned".to_string())?;
        let rows = vec![RowState::new(vec![true; ids.len()])];
        let lp = model.step(&ids, &rows, ids.len(), &mut KvCache::default());
        let d = (lp[self.a as usize] - lp[self.b as usize]) as f64;
        Ok(1.0 / (1.0 + (-d).exp()))
    }
}

/// A counting pairwise judge over a [`JudgeModel`], with the prompt texts it judges for.
pub struct LmPairJudge {
    judge: Arc<JudgeModel>,
    questions: Vec<String>,
    counts: Mutex<HashMap<usize, u64>>,
}

impl LmPairJudge {
    /// A judge for prompts `questions` (indexed by prompt id).
    pub fn new(judge: Arc<JudgeModel>, questions: Vec<String>) -> Self {
        LmPairJudge {
            judge,
            questions,
            counts: Mutex::new(HashMap::new()),
        }
    }
}

impl Preference for LmPairJudge {
    fn prob(&self, prompt: usize, a: &str, b: &str) -> f64 {
        *self
            .counts
            .lock()
            .expect("counter")
            .entry(prompt)
            .or_default() += 1;
        let q = self.questions.get(prompt).map(String::as_str).unwrap_or("");
        let p1 = self.judge.order_prob(q, a, b);
        let p2 = self.judge.order_prob(q, b, a);
        match (p1, p2) {
            // (p1 − p2) first: identical responses give exactly ½.
            (Ok(p1), Ok(p2)) => 0.5 * ((p1 - p2) + 1.0),
            // A judge that cannot read the pair (template missing) has no preference.
            _ => 0.5,
        }
    }
    fn calls(&self) -> u64 {
        self.counts.lock().expect("counter").values().sum()
    }
    fn calls_for(&self, prompt: usize) -> u64 {
        self.counts
            .lock()
            .expect("counter")
            .get(&prompt)
            .copied()
            .unwrap_or(0)
    }
}
