//! wind-bond
