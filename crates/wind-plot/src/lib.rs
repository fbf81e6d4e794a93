//! wind-plot
