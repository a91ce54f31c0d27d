//! vigil-input (placeholder: being written)
