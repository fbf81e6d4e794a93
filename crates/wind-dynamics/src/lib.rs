//! wind-dynamics
