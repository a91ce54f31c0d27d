//! vigil-sigma (placeholder: being written)
