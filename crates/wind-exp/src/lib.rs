//! wind-exp
